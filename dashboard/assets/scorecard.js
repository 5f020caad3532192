// Overview scorecard: a click on a heatmap cell opens the chart behind it. Each cell's customdata[3] is its link
// (dashboard/data/charts.py scorecard_cell_href); it is followed as a dcc.Link does: a history entry, no reload,
// the page router reads the new location. dashboard/pages/overview.py open_cell is the same rule in Python.
(function () {
  'use strict';
  function follow(data) {
    var point = data && data.points && data.points[0];
    var link = point && point.customdata && point.customdata[3];
    if (typeof link !== 'string' || link.charAt(0) !== '/' || link.charAt(1) === '/') { return; }
    window.history.pushState({}, '', link);
    window.dispatchEvent(new CustomEvent('_dashprivate_pushstate'));
    window.scrollTo(0, 0);
  }
  function watch() {
    var gd = document.querySelector('#scorecard-graph .js-plotly-plot');
    if (gd && typeof gd.on === 'function' && !gd.dsmFollowsCells) {
      gd.dsmFollowsCells = true;
      gd.on('plotly_click', follow);
    }
  }
  new MutationObserver(watch).observe(document.documentElement, { childList: true, subtree: true });
})();
