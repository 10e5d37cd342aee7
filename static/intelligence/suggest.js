// Dispatch suggestions (智能分派) beside a unit or category choice, as one-click choices.
// Each [data-suggest] card asks POST /api/v1/suggestions/dispatch/ for the text it names
// (data-text, or the field data-text-source as it is typed), lists the choices with their
// probability and reasons, sets the chosen one in the select data-target, and, when that
// select's form is submitted, records what was submitted (first suggestion, another, none).
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(url, body, keepalive) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify(body),
    });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function optionFor(select, choice) {
    if (!select) return null;
    var wanted = [String(choice.id), choice.unit || choice.category];
    for (var i = 0; i < select.options.length; i++) {
      if (wanted.indexOf(select.options[i].value) !== -1) return select.options[i];
    }
    return null;
  }

  function Card(card) {
    this.card = card;
    this.d = card.dataset;
    this.select = this.d.target ? document.querySelector(this.d.target) : null;
    this.status = card.querySelector("[data-suggest-status]");
    this.list = card.querySelector("[data-suggest-list]");
    this.rule = card.querySelector("[data-suggest-rule]");
    this.model = card.querySelector("[data-suggest-model]");
    this.choices = [];
    this.log = null;
    this.asked = "";
  }

  Card.prototype.text = function () {
    if (this.d.textSource) {
      var field = document.querySelector(this.d.textSource);
      return field ? field.value.trim() : "";
    }
    return (this.d.text || "").trim();
  };

  Card.prototype.ask = function () {
    var text = this.text();
    if (text.length < 4) {
      this.status.textContent = this.d.msgWait;
      return;
    }
    if (text === this.asked) return;
    this.asked = text;
    var body = { text: text, choose: this.d.choose };
    if (this.d.surface) body.surface = this.d.surface; // logged only where a choice is made
    if (this.d.case) body.case = Number(this.d.case);
    if (this.d.lat && this.d.lng) {
      body.lat = Number(this.d.lat);
      body.lng = Number(this.d.lng);
    }
    if (this.d.category) body.category = this.d.category;
    var self = this;
    post(this.d.url, body)
      .then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      })
      .then(function (data) {
        if (text === self.asked) self.show(data);
      })
      .catch(function () {
        self.status.textContent = self.d.msgFailed;
      });
  };

  Card.prototype.show = function (data) {
    var choices = this.d.choose === "category" ? data.categories : data.units;
    this.choices = choices;
    this.log = data.log;
    this.list.textContent = "";
    this.status.textContent = data.cold_start ? data.note : "";
    this.status.hidden = !this.status.textContent;
    if (data.rule && this.d.choose !== "category") {
      this.rule.textContent = this.d.msgRule + ": " + data.rule.name + " (" + data.rule.unit +
        ") — " + data.rule.explanation;
      this.rule.hidden = false;
    } else {
      this.rule.hidden = true;
    }
    this.model.textContent = this.d.msgModel + ": " + data.model;
    if (!choices.length) {
      this.status.textContent = this.d.msgEmpty;
      this.status.hidden = false;
      return;
    }
    var self = this;
    choices.forEach(function (choice, index) {
      var item = el("li");
      item.dataset.code = choice.unit || choice.category;
      var head = el("div", "suggest-head");
      head.appendChild(el("span", "suggest-rank", String(index + 1) + "."));
      head.appendChild(el("span", "suggest-name", choice.name));
      var meter = el("meter");
      meter.min = 0;
      meter.max = 1;
      meter.value = choice.score;
      head.appendChild(meter);
      head.appendChild(el("span", "suggest-score", Math.round(choice.score * 100) + " %"));
      var option = optionFor(self.select, choice);
      if (option) {
        var button = el("button", "secondary", self.d.msgTake);
        button.type = "button";
        button.dataset.suggestTake = String(index);
        button.addEventListener("click", function () {
          self.take(index);
        });
        head.appendChild(button);
      }
      item.appendChild(head);
      if (choice.reasons.length) {
        var reasons = el("ul", "suggest-reasons");
        choice.reasons.forEach(function (reason) {
          reasons.appendChild(el("li", "reason-" + reason.kind, reason.label));
        });
        item.appendChild(reasons);
      }
      self.list.appendChild(item);
    });
    this.mark();
  };

  Card.prototype.take = function (index) {
    var option = optionFor(this.select, this.choices[index]);
    if (!option) return;
    this.select.value = option.value;
    this.select.dispatchEvent(new Event("change", { bubbles: true }));
    this.mark();
  };

  Card.prototype.mark = function () {
    var value = this.select ? this.select.value : "";
    var self = this;
    Array.prototype.forEach.call(this.list.children, function (item, index) {
      var option = optionFor(self.select, self.choices[index]);
      var chosen = !!option && option.value === value && value !== "";
      item.classList.toggle("chosen", chosen);
      var button = item.querySelector("button");
      if (button) button.textContent = chosen ? self.d.msgTaken : self.d.msgTake;
    });
  };

  Card.prototype.chosenCode = function () {
    var value = this.select ? this.select.value : "";
    if (!value) return "";
    for (var i = 0; i < this.choices.length; i++) {
      var option = optionFor(this.select, this.choices[i]);
      if (option && option.value === value) return this.choices[i].unit || this.choices[i].category;
    }
    return "#" + value; // not among the suggestions
  };

  Card.prototype.watch = function () {
    var self = this;
    if (this.select) {
      this.select.addEventListener("change", function () {
        self.mark();
      });
      if (this.select.form) {
        this.select.form.addEventListener("submit", function () {
          if (self.log) {
            var url = self.d.choiceUrl.replace("/0/", "/" + self.log + "/");
            post(url, { chosen: self.chosenCode() }, true);
          }
        });
      }
    }
    if (this.d.textSource) {
      var field = document.querySelector(this.d.textSource);
      var timer = null;
      if (field) {
        field.addEventListener("input", function () {
          clearTimeout(timer);
          timer = setTimeout(function () {
            self.ask();
          }, 600);
        });
      }
    }
    this.ask();
  };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-suggest]").forEach(function (card) {
      new Card(card).watch();
    });
  });
})();
