// Ranking choices by tapping: in each slot's card the activities are buttons, and the order
// in which they are tapped is the ranking (tap again to take one out, "清除" to start over).
// The buttons only fill the card's own selects (rank1 … rankN), which stay the fields the
// form posts: without this script the selects are shown and the page works the same, and a
// page shown again after an error starts from what the selects hold.
(function () {
  "use strict";

  var CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩";

  function mark(rank) {
    return CIRCLED.charAt(rank - 1) || "(" + rank + ")";
  }

  function enhance(card) {
    var picker = card.querySelector(".picker");
    var ranks = card.querySelector(".ranks");
    if (!picker || !ranks) { return; }
    var selects = Array.prototype.slice.call(ranks.querySelectorAll("select"));
    var buttons = Array.prototype.slice.call(picker.querySelectorAll("button.pick"));
    var summary = picker.querySelector(".pick-summary");
    var names = {};
    var picks = [];

    buttons.forEach(function (button) {
      names[button.dataset.item] = button.querySelector(".pick-name").textContent;
    });
    selects.forEach(function (select) {
      if (select.value && names[select.value] && picks.indexOf(select.value) < 0) {
        picks.push(select.value);
      }
    });

    function render(message) {
      selects.forEach(function (select, i) { select.value = picks[i] || ""; });
      buttons.forEach(function (button) {
        var rank = picks.indexOf(button.dataset.item) + 1;
        button.setAttribute("aria-pressed", rank ? "true" : "false");
        button.querySelector(".pick-rank").textContent = rank ? String(rank) : "";
        button.querySelector(".pick-state").textContent =
          rank ? picker.dataset.rankLabel.replace("%d", rank) : "";
      });
      if (message) {
        summary.textContent = message;
      } else if (picks.length) {
        summary.textContent = picker.dataset.chosen + picks.map(function (item, i) {
          return mark(i + 1) + names[item];
        }).join(" ");
      } else {
        summary.textContent = picker.dataset.none;
      }
    }

    picker.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || !picker.contains(button)) { return; }
      if (button.classList.contains("pick-clear")) {
        picks = [];
        render();
        return;
      }
      var item = button.dataset.item;
      var at = picks.indexOf(item);
      if (at >= 0) {
        picks.splice(at, 1);
      } else if (picks.length >= selects.length) {
        render(picker.dataset.full);
        return;
      } else {
        picks.push(item);
      }
      render();
    });

    ranks.hidden = true;
    picker.hidden = false;
    render();
  }

  Array.prototype.forEach.call(document.querySelectorAll(".slot-choice"), enhance);
  Array.prototype.forEach.call(document.querySelectorAll(".picker-hint"), function (hint) {
    hint.hidden = false;
  });
})();
