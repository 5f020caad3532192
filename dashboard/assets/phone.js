/* Charts on narrow screens (phones, <= 700 px): legend below the plot, a slim colour bar, no toolbar over the title,
 * the in-chart source note left to the source line under the card, the map zoomed to the Baltic Sea Region, ranked
 * and stacked bars horizontal, and the scorecard heatmap shown as its table.
 * Applied after every draw (dcc.Graph redraws with the server's layout whenever the view changes). */
(function () {
  var NARROW = window.matchMedia('(max-width: 700px)');
  var BSR_VIEW = {'geo.fitbounds': false, 'geo.lonaxis.range': [-2, 34], 'geo.lataxis.range': [46, 71.5]};

  function phoneLayout(gd) {
    if (!NARROW.matches || !window.Plotly || !gd.layout || !gd.data) { return; }
    var layout = gd.layout, update = {}, restyle = null, traces = [];
    if (layout.showlegend !== false && !(layout.legend && layout.legend.orientation === 'h')) {
      update['legend.orientation'] = 'h';
      update['legend.x'] = 0; update['legend.xanchor'] = 'left';
      update['legend.y'] = -0.18; update['legend.yanchor'] = 'top';
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
    }
  }

  // A ranked bar chart (many countries side by side), or a stacked one (the DESI composite, its totals written over
  // the stacks), becomes horizontal on a phone: one row per country, names readable, best at the top, the totals
  // after the stacks, the reference lines (EU27, BSR average, 2030 target) vertical with their labels.
  var MANY_BARS = 12, MANY_STACKS = 6;
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
    var traces = gd.data.map(function (t) {
      var turned = Object.assign({}, t, {x: t.y, y: t.x, texttemplate: swapTokens(t.texttemplate),
                                         hovertemplate: swapTokens(t.hovertemplate)});
      if (t.type === 'bar') { turned.orientation = 'h'; turned.textangle = 0; } else {
        turned.textposition = 'middle right';
        (t.y || []).forEach(function (v) { if (typeof v === 'number' && v > widest) { widest = v; } });
      }
      return turned;
    });
    var yTitle = layout.yaxis && layout.yaxis.title;
    var xaxis = {title: yTitle, rangemode: 'tozero', automargin: true, gridcolor: layout.yaxis.gridcolor};
    if (widest) { xaxis.range = [0, widest * 1.35]; }     // room for the totals after the longest stack
    var next = Object.assign({}, layout, {
      xaxis: xaxis,
      // below the value axis and its title
      legend: Object.assign({}, layout.legend, {orientation: 'h', x: 0, xanchor: 'left', y: -0.3, yanchor: 'top'}),
      yaxis: {type: 'category', autorange: 'reversed', automargin: true, tickfont: {size: 11}},
      height: Math.max(420, rows * (widest ? 28 : 20) + 180),
      shapes: (layout.shapes || []).map(function (s) {
        if (s.type !== 'line' || s.yref !== 'y' || s.xref !== 'paper') { return s; }
        return Object.assign({}, s, {xref: 'x', x0: s.y0, x1: s.y1, yref: 'paper', y0: 0, y1: 1});
      }),
      annotations: (layout.annotations || []).map(function (a) {
        if (a.yref !== 'y' || a.xref !== 'paper') { return a; }
        // the label runs down beside its line from the top of the plot
        return Object.assign({}, a, {xref: 'x', x: a.y, yref: 'paper', y: 1, textangle: -90,
                                     xanchor: a.yanchor === 'top' ? 'left' : 'right', yanchor: 'top'});
      })
    });
    window.Plotly.react(gd, traces, next, gd._context);
    return true;
  }

  // A heatmap (the scorecard) cannot show its row labels on a phone: open its table view instead, unless the
  // address asks for a view.
  function tableForHeatmap(gd) {
    if (!NARROW.matches || /[?&]view=/.test(window.location.search)) { return false; }
    if (!(gd.data || []).some(function (t) { return t.type === 'heatmap'; })) { return false; }
    var card = gd.closest('.chart-card');
    var table = card && card.querySelector('.view-toggle input[value="table"]');
    if (table && !table.checked) { table.click(); return true; }
    return false;
  }

  function watch(gd) {
    if (gd.dsmPhoneWatched || typeof gd.on !== 'function') { return; }
    gd.dsmPhoneWatched = true;
    gd.on('plotly_afterplot', function () { if (!tableForHeatmap(gd) && !horizontalBars(gd)) { phoneLayout(gd); } });
    if (!tableForHeatmap(gd) && !horizontalBars(gd)) { phoneLayout(gd); }
  }

  new MutationObserver(function () {
    document.querySelectorAll('.js-plotly-plot').forEach(watch);
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
