// plotly.js with only the trace types the dashboard draws: bar, scatter (in core), heatmap, choropleth (geo).
var Plotly = require('plotly.js/lib/core');
Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/heatmap'), require('plotly.js/lib/choropleth')]);
module.exports = Plotly;
