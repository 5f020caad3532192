/* Charts on narrow screens (phones, <= 700 px): legend below the plot, a slim colour bar, no toolbar over the title,
 * the in-chart source note left to the source line under the card, the map zoomed to the Baltic Sea Region, and
 * the scorecard heatmap shown as its table.
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
    gd.on('plotly_afterplot', function () { if (!tableForHeatmap(gd)) { phoneLayout(gd); } });
    if (!tableForHeatmap(gd)) { phoneLayout(gd); }
  }

  new MutationObserver(function () {
    document.querySelectorAll('.js-plotly-plot').forEach(watch);
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
