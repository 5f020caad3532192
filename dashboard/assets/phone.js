/* Charts on narrow screens (phones, <= 700 px): legend below the plot (its title above its entries), a slim colour
 * bar, no toolbar over the title, the in-chart source note left to the source line under the card, the map zoomed to
 * the Baltic Sea Region, ranked and stacked bars horizontal, the scorecard heatmap shown as its table, and a title or
 * note wider than the chart broken over lines.
 * Applied after every draw (dcc.Graph redraws with the server's layout whenever the view changes). */
(function () {
  var NARROW = window.matchMedia('(max-width: 700px)');
  var BSR_VIEW = {'geo.fitbounds': false, 'geo.lonaxis.range': [-2, 34], 'geo.lataxis.range': [46, 71.5]};

  function phoneLayout(gd) {
    if (!NARROW.matches || !window.Plotly || !gd.layout || !gd.data) { return; }
    var layout = gd.layout, update = {}, restyle = null, traces = [];
    var legend = layout.legend || {};
    // beside the plot, or above it where its rows would run over the title
    if (layout.showlegend !== false && !(legend.orientation === 'h' && legend.y < 1)) {
      update['legend.orientation'] = 'h';
      update['legend.x'] = 0; update['legend.xanchor'] = 'left';
      update['legend.y'] = -0.18; update['legend.yanchor'] = 'top';
      update['legend.title.side'] = 'top';   // the entries get the whole width
    }
    (layout.annotations || []).forEach(function (a, i) {
      if ((a.name === 'source' || a.name === 'flag-legend') && a.visible !== false) { update['annotations[' + i + '].visible'] = false; }
    });
    var lon = layout.geo && layout.geo.lonaxis && layout.geo.lonaxis.range;
    if (layout.geo && !(lon && lon[0] === BSR_VIEW['geo.lonaxis.range'][0] && lon[1] === BSR_VIEW['geo.lonaxis.range'][1])) {
      Object.assign(update, BSR_VIEW);
    }
    gd.data.forEach(function (trace, i) {
      if (trace.type === 'choropleth' && trace.showscale !== false && !(trace.colorbar && trace.colorbar.thickness === 10)) {
        traces.push(i);  // a slimmer colour bar beside the map leaves the map most of the width
      }
    });
    if (traces.length) { restyle = {'colorbar.thickness': 10, 'colorbar.len': 0.7, 'colorbar.xpad': 2, 'colorbar.title.side': 'right'}; }
    if (Object.keys(update).length || restyle) {
      update['margin.l'] = Math.min((layout.margin && layout.margin.l) || 60, 48);
      update['margin.r'] = 8;
      window.Plotly.update(gd, restyle || {}, update, restyle ? traces : undefined);
      return true;
    }
    return false;
  }

  // Break a title or note wider than the chart over lines, at spaces, measured as drawn; the title's extra lines
  // get room above the plot. Texts with markup other than line breaks are left as they are.
  function wrapped(text, chars) {
    var lines = [], line = '';
    text.split(/<br>| /).forEach(function (word) {
      if (line && (line + ' ' + word).length > chars) { lines.push(line); line = word; } else { line = line ? line + ' ' + word : word; }
    });
    return lines.concat(line ? [line] : []).join('<br>');
  }
  function fitted(text, drawn, room) {
    if (typeof text !== 'string' || /<(?!br>)/.test(text) || drawn.width <= room) { return null; }
    var longest = Math.max.apply(null, text.split('<br>').map(function (l) { return l.length; }));
    var next = wrapped(text, Math.max(12, Math.floor(longest * room / drawn.width)));
    return next === text ? null : next;
  }
  function fitText(gd) {
    var svg = gd.querySelector('.main-svg');
    if (!NARROW.matches || !svg || !gd.layout) { return; }
    var edge = svg.getBoundingClientRect(), update = {};
    var title = gd.querySelector('.gtitle'), text = gd.layout.title && gd.layout.title.text;
    if (title) {
      var drawn = title.getBoundingClientRect(), next = fitted(text, drawn, edge.right - 4 - drawn.left);
      if (next) {
        update['title.text'] = next;
        update['margin.t'] = ((gd.layout.margin && gd.layout.margin.t) || 70) + 24 * (next.split('<br>').length - text.split('<br>').length);
      }
    }
    gd.querySelectorAll('.annotation[data-index]').forEach(function (group) {
      var i = +group.getAttribute('data-index'), note = (gd.layout.annotations || [])[i];
      var drawn = group.querySelector('.annotation-text');
      if (!note || note.visible === false || !drawn || note.textangle) { return; }
      var box = drawn.getBoundingClientRect();
      if (box.left >= edge.left && box.right <= edge.right) { return; }
      var next = fitted(note.text, box, box.width - Math.max(0, box.right - edge.right + 4) - Math.max(0, edge.left + 4 - box.left));
      if (next) { update['annotations[' + i + '].text'] = next; }
    });
    if (Object.keys(update).length) { window.Plotly.relayout(gd, update); }
  }

  // A ranked bar chart (many countries side by side), or a stacked one (the DESI composite, its totals written over
  // the stacks), becomes horizontal on a phone: one row per country, names readable, best at the top, the totals
  // after the stacks, the reference lines (EU27, BSR average, 2030 target) vertical and named in the legend under the
  // plot (a label beside a line would run over the bars and the totals).
  var MANY_BARS = 12, MANY_STACKS = 6, LEGEND_GAP = 80, LEGEND_ROW = 24;
  function swapTokens(text) {
    return typeof text === 'string' ? text.replace(/%\{x/g, '%{\u0000').replace(/%\{y/g, '%{x').replace(/%\{\u0000/g, '%{y') : text;
  }
  function turnable(gd) {
    var layout = gd.layout, bars = gd.data.filter(function (t) { return t.type === 'bar'; });
    var totals = gd.data.filter(function (t) { return t.type === 'scatter' && t.mode === 'text'; });
    if (!bars.length || bars.length + totals.length !== gd.data.length || !(layout.xaxis && layout.xaxis.type === 'category')) { return false; }
    // a redraw with the server's figure (new indicator, year, countries) is vertical again: turned again
    if (bars.some(function (t) { return t.orientation === 'h' || !t.x; })) { return false; }
    var stacked = layout.barmode === 'stack' && bars.length > 1;
    if (stacked) { return bars[0].x.length >= MANY_STACKS; }
    return bars.length === 1 && !totals.length && bars[0].x.length >= MANY_BARS;
  }
  function horizontalBars(gd) {
    if (!NARROW.matches || !gd.data || !gd.layout || !turnable(gd)) { return false; }
    var layout = gd.layout, widest = 0, rows = gd.data[0].x.length;
    var reference = function (s) { return s.type === 'line' && s.yref === 'y' && s.xref === 'paper'; };
    var named = (layout.shapes || []).some(function (s) { return reference(s) && s.name; });
    var traces = gd.data.map(function (t) {
      var turned = Object.assign({}, t, {x: t.y, y: t.x, texttemplate: swapTokens(t.texttemplate),
                                         hovertemplate: swapTokens(t.hovertemplate)});
      if (layout.showlegend === false) { turned.showlegend = false; }   // the legend names only the lines
      if (t.type === 'bar') { turned.orientation = 'h'; turned.textangle = 0; } else {
        turned.textposition = 'middle right';
        (t.y || []).forEach(function (v) { if (typeof v === 'number' && v > widest) { widest = v; } });
      }
      return turned;
    });
    var yTitle = layout.yaxis && layout.yaxis.title;
    var xaxis = {title: yTitle, rangemode: 'tozero', automargin: true, gridcolor: layout.yaxis.gridcolor};
    if (widest) { xaxis.range = [0, widest * 1.35]; }     // room for the totals after the longest stack
    // the legend under the plot, one entry a row, gets room of its own
    var entries = traces.filter(function (t) { return t.type === 'bar' && t.showlegend !== false; }).length +
        (layout.shapes || []).filter(function (s) { return reference(s) && s.name; }).length;
    var height = Math.max(420, rows * (widest ? 28 : 20) + 180) + LEGEND_ROW * entries, margin = layout.margin || {};
    var plot = height - (margin.t || 70) - (margin.b || 100);
    var next = Object.assign({}, layout, {
      xaxis: xaxis,
      // below the value axis and its title (LEGEND_GAP px under the plot)
      legend: Object.assign({}, layout.legend, {orientation: 'h', x: 0, xanchor: 'left', y: -LEGEND_GAP / plot, yanchor: 'top',
                                                title: Object.assign({}, layout.legend && layout.legend.title, {side: 'top'})}),
      showlegend: layout.showlegend !== false || named,
      yaxis: {type: 'category', autorange: 'reversed', automargin: true, tickfont: {size: 11}},
      height: height,
      shapes: (layout.shapes || []).map(function (s) {
        if (!reference(s)) { return s; }
        return Object.assign({}, s, {xref: 'x', x0: s.y0, x1: s.y1, yref: 'paper', y0: 0, y1: 1, showlegend: !!s.name,
                                     name: s.name && wrapped(s.name, Math.floor((gd.clientWidth - 60) / 7))});
      }),
      // a line's label is its legend entry
      annotations: (layout.annotations || []).filter(function (a) { return a.yref !== 'y' || a.xref !== 'paper'; })
    });
    window.Plotly.react(gd, traces, next, gd._context);
    return true;
  }

  // A heatmap (the scorecard) cannot show its row labels on a phone, nor a chart whose row labels take more than
  // CROWDED of the width (the Digital Decade KPIs): open the table view instead, unless the address asks for a view.
  var CROWDED = 0.5;
  function tableView(gd) {
    if (!NARROW.matches || /[?&]view=/.test(window.location.search)) { return false; }
    var full = gd._fullLayout;
    var crowded = full && full._size && full.yaxis && full.yaxis.type === 'category' && full._size.l > CROWDED * full.width;
    if (!crowded && !(gd.data || []).some(function (t) { return t.type === 'heatmap'; })) { return false; }
    var card = gd.closest('.chart-card');
    var table = card && card.querySelector('.view-toggle input[value="table"]');
    if (table && !table.checked) { table.click(); return true; }
    return false;
  }

  function watch(gd) {
    if (gd.dsmPhoneWatched || typeof gd.on !== 'function') { return; }
    gd.dsmPhoneWatched = true;
    // each step that redraws leaves the next to the draw it causes
    var fit = function () {
      if (!tableView(gd) && !horizontalBars(gd) && !phoneLayout(gd)) { fitText(gd); }
    };
    gd.on('plotly_afterplot', fit);
    fit();
  }

  new MutationObserver(function () {
    document.querySelectorAll('.js-plotly-plot').forEach(watch);
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
