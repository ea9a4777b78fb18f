/* Kiosk behaviour, loaded from the app itself (no inline script, CSP script-src 'self'):
   - idle timeout: no touch for data-idle-timeout-ms → submit the "start over" form, which
     forgets the driver on the server and shows the start screen in the default language
     (not on the pay and starting screens, which have no such attribute);
   - forms marked data-once submit once (double tap on "pay"); the server is idempotent too;
   - live status: poll data-status-url?since=<cursor>, announce new messages in the aria-live
     region, update [data-field] values, show or hide [data-flag] parts (cancel, stop),
     follow the transaction to its next screen;
   - countdowns: [data-countdown] seconds, shown as M:SS;
   - "Read aloud" (#speech-toggle): while on, the screen's main text is spoken on arrival and
     every status message as it comes, as WAV rendered by the server (data-speech-url). It
     stays on from screen to screen in sessionStorage, which the idle reset clears. */
(function () {
  "use strict";

  var body = document.body;
  var resetForm = document.getElementById("reset-form");
  // No idle timeout on a screen without the attribute (pay, starting: see views.IDLE_PAUSED_ON).
  var idleMs = parseInt(body.dataset.idleTimeoutMs, 10) || 0;
  var idleTimer = null;

  function startOver() {
    try { window.sessionStorage.clear(); } catch (e) { /* storage may be disabled */ }
    if (resetForm) { resetForm.submit(); }
  }

  function onIdle() {
    // A fresh start screen has nothing of a driver on it: no need to reload it.
    if (body.dataset.screen === "start" && body.dataset.fresh === "1") { return; }
    startOver();
  }

  function activity() {
    window.clearTimeout(idleTimer);
    if (idleMs > 0) { idleTimer = window.setTimeout(onIdle, idleMs); }
  }

  ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true, capture: true });
  });
  activity();

  Array.prototype.forEach.call(document.querySelectorAll("form[data-once]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "1") { event.preventDefault(); return; }
      form.dataset.sent = "1";
      Array.prototype.forEach.call(form.querySelectorAll("button"), function (button) {
        button.setAttribute("aria-busy", "true");
        // Disable after the browser has taken the submission, so the form still goes out.
        window.setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  });

  function showCountdown(element, seconds) {
    var s = Math.max(0, seconds);
    element.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-countdown]"), function (element) {
    var endsAt = Date.now() + parseInt(element.dataset.countdown, 10) * 1000;
    showCountdown(element, Math.round((endsAt - Date.now()) / 1000));
    window.setInterval(function () {
      showCountdown(element, Math.round((endsAt - Date.now()) / 1000));
    }, 1000);
  });

  var speechUrl = body.dataset.speechUrl;
  var speechMax = parseInt(body.dataset.speechMax, 10) || 1500;
  var speechToggle = document.getElementById("speech-toggle");
  var SPEECH_KEY = "kiosk.speech";
  var player = document.createElement("audio");
  var speechQueue = [];  // phrases still to play: {src, screen}
  var speaking = null;   // the phrase playing now

  function speechOn() {
    try { return window.sessionStorage.getItem(SPEECH_KEY) === "1"; } catch (e) { return false; }
  }

  function playNext() {
    var phrase = speechQueue.shift() || null;
    speaking = phrase;
    if (!phrase) { return; }
    player.src = phrase.src;
    player.play().catch(function () {
      // Refused (no sound allowed yet) or failed: go on with the next phrase, silently; one
      // cut short by silence() or a newer phrase has nothing to go on with.
      if (speaking === phrase) { playNext(); }
    });
  }

  function silence() {
    speechQueue = [];
    speaking = null;
    player.pause();
  }

  function say(text, screen) {
    var words = (text || "").replace(/\s+/g, " ").trim().slice(0, speechMax);
    if (!speechUrl || !words) { return; }
    // A status change is news the driver must act on: it cuts the reading of the screen short
    // instead of waiting behind it. Status messages among themselves keep their order.
    if (!screen && speaking && speaking.screen) { silence(); }
    speechQueue.push({
      src: speechUrl + "?lang=" + encodeURIComponent(document.documentElement.lang) +
        "&text=" + encodeURIComponent(words),
      screen: screen
    });
    if (!speaking) { playNext(); }
  }

  function sayScreen() {
    var main = document.getElementById("main");
    if (main) { say(main.innerText, true); }
  }

  if (speechToggle && speechUrl) {
    player.hidden = true;
    player.addEventListener("ended", playNext);
    player.addEventListener("error", playNext);
    body.appendChild(player);
    speechToggle.setAttribute("aria-pressed", speechOn() ? "true" : "false");
    speechToggle.addEventListener("click", function () {
      var on = !speechOn();
      try { window.sessionStorage.setItem(SPEECH_KEY, on ? "1" : "0"); } catch (e) { /* none */ }
      speechToggle.setAttribute("aria-pressed", on ? "true" : "false");
      silence();
      if (on) { sayScreen(); }
    });
    if (speechOn()) { sayScreen(); }
  }

  var statusUrl = body.dataset.statusUrl;
  if (!statusUrl) { return; }
  var cursor = parseInt(body.dataset.cursor, 10) || 0;
  var pollMs = parseInt(body.dataset.pollMs, 10) || 500;
  var live = document.getElementById("live");

  function apply(status) {
    if (status.screen !== body.dataset.screen) {
      window.location.replace(status.url);
      return false;
    }
    cursor = status.cursor;
    if (status.messages.length && live) {
      live.textContent = status.messages[status.messages.length - 1];
      if (speechOn()) { say(live.textContent, false); }
      activity(); // the driver is busy with the terminal: a prompt counts as activity
    }
    Object.keys(status.fields).forEach(function (name) {
      var element = document.querySelector('[data-field="' + name + '"]');
      if (element && element.textContent !== status.fields[name]) {
        element.textContent = status.fields[name];
      }
    });
    Object.keys(status.flags).forEach(function (name) {
      Array.prototype.forEach.call(document.querySelectorAll('[data-flag="' + name + '"]'),
        function (element) { element.hidden = !status.flags[name]; });
    });
    return true;
  }

  function poll() {
    window.fetch(statusUrl + "?since=" + cursor, {
      headers: { Accept: "application/json" },
      cache: "no-store",
      credentials: "same-origin"
    }).then(function (response) {
      if (response.status === 404) { startOver(); return null; }
      if (!response.ok) { throw new Error("status " + response.status); }
      return response.json();
    }).then(function (status) {
      if (status && apply(status)) { window.setTimeout(poll, pollMs); }
    }).catch(function () {
      // Network hiccup or server restart: keep trying, a little slower.
      window.setTimeout(poll, pollMs * 4);
    });
  }

  window.setTimeout(poll, pollMs);
}());
