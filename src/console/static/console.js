// herald console: small enhancements on top of server-rendered pages (they work without it).
(function () {
  'use strict';
  // Times: shown in the browser's time zone; UTC stays in the title (hover).
  function localTimes(root) {
    root.querySelectorAll('time[datetime]').forEach(function (el) {
      var d = new Date(el.getAttribute('datetime'));
      if (!isNaN(d.getTime())) el.textContent = d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
    });
    // Time filters are entered in local time: say which zone they mean.
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    root.querySelectorAll('input[name="tz"]').forEach(function (el) {
      if (zone) el.value = zone;
    });
  }
  // Charts: a <div data-chart> holds its series as JSON; uPlot draws it when present.
  function charts(root) {
    if (typeof window.uPlot !== 'function') return;
    root.querySelectorAll('[data-chart]').forEach(function (el) {
      if (el.dataset.drawn) return;
      el.dataset.drawn = '1';
      var spec = JSON.parse(el.getAttribute('data-chart'));
      var colors = { succeeded: '#15803d', failed: '#b45309', dead: '#b91c1c', interrupted: '#6b7280', received: '#1d4ed8' };
      var series = [{}].concat(spec.series.map(function (name) {
        return { label: name, stroke: colors[name] || '#334155', width: 2, points: { show: false } };
      }));
      var width = Math.max(280, el.clientWidth - 16);
      new window.uPlot({ width: width, height: 220, series: series, axes: [{}, { label: spec.unit || '' }] }, spec.data, el);
    });
  }
  function enhance(root) { localTimes(root); charts(root); }
  document.addEventListener('DOMContentLoaded', function () { enhance(document); });
  document.addEventListener('htmx:afterSettle', function (e) { enhance(e.target); });
})();
