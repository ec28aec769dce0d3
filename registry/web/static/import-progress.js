// An import's progress, live: while the job is queued or running, ask the page's status URL
// every second or so and update the counts and the state; once it has ended, load the page
// again so that its rejections are listed. Without JavaScript the page has a Refresh link.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || box.dataset.running !== "true") {
    return;
  }
  var url = box.dataset.statusUrl;
  var stateText = box.querySelector("#job-state .state");
  var names = JSON.parse(box.dataset.stateNames || "{}");

  function show(status) {
    Object.keys(status).forEach(function (name) {
      var cell = box.querySelector('[data-count="' + name + '"]');
      if (cell) {
        cell.textContent = String(status[name]);
      }
    });
    if (stateText && stateText.className !== "state state-" + status.state) {
      stateText.className = "state state-" + status.state;
      stateText.textContent = names[status.state] || status.state;
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (status) {
        show(status);
        if (status.running) {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 500);
})();
