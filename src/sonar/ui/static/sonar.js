// Move focus to the error summary after a refused submit (GOV.UK pattern), so screen
// reader and keyboard users land on the list of problems first. Pages work without it.
(function () {
  var summary = document.querySelector('[data-module="error-summary"]');
  if (summary) { summary.focus(); }
})();
