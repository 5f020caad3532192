// For an embed of the map: choropleth (scatter is in core).
var Plotly = require('plotly.js/lib/core');
Plotly.register([require('plotly.js/lib/choropleth')]);
module.exports = Plotly;
