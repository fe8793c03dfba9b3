import { test } from "node:test";
import assert from "node:assert/strict";
import { Pause, waitingText } from "./pause.js";

test("a live view draws every frame and counts nothing", () => {
  const p = new Pause();
  p.take("live");
  assert.equal(p.draws(), true);
  assert.equal(p.waiting, 0);
  assert.equal(p.badge(), null);
});

test("paused: no frame draws, stream events are counted, history is not", () => {
  const p = new Pause();
  assert.equal(p.toggle(), true);
  p.take("live");
  p.take("replay");
  p.take("history");
  assert.equal(p.draws(), false);
  assert.equal(p.waiting, 2);
  assert.deepEqual(p.badge(), ["Paused", "2 events waiting"]);
});

test("resume draws again and clears the count", () => {
  const p = new Pause();
  p.toggle();
  p.take("live");
  assert.equal(p.toggle(), false);
  assert.equal(p.draws(), true);
  assert.equal(p.waiting, 0);
  p.toggle();
  assert.equal(p.waiting, 0, "a new pause counts from zero");
  p.resume();
  assert.equal(p.paused, false);
  p.resume();
  assert.equal(p.paused, false, "resume when live is a no-op");
});

test("redrawOnce draws one frame while paused", () => {
  const p = new Pause();
  p.toggle();
  p.redrawOnce();
  assert.equal(p.draws(), true);
  assert.equal(p.draws(), false);
  assert.equal(p.paused, true);
});

test("waitingText", () => {
  for (const [n, want] of [
    [0, "nothing new yet"],
    [1, "1 event waiting"],
    [12, "12 events waiting"],
    [NaN, "nothing new yet"],
  ]) {
    assert.equal(waitingText(n), want, String(n));
  }
});
