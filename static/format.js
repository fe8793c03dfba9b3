// Pure formatting helpers: human units and local times. No DOM access, so
// format_test.js can run them under node.

const BIN = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

// SI_BITS are bit-rate units: network gear counts bits in powers of 1000.
const SI_BITS = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s", "Pbit/s"];

// scaled splits |v| into a mantissa below step (unless past the last unit)
// and its unit's index: scaled(1536, 1024, BIN) -> [1.5, 1].
function scaled(v, step, units) {
  let i = 0;
  let x = Math.abs(v);
  while (x >= step && i < units.length - 1) {
    x /= step;
    i++;
  }
  return [x, i];
}

// human writes v in the largest unit that keeps it at least 1, with about
// three significant digits ("1.50 MiB", "12.3 MiB", "950 MiB"); tick
// writes an axis label, shorter ("1.5 MiB"). Both keep v's sign.
function human(v, step, units) {
  const [x, i] = scaled(v, step, units);
  return (v < 0 ? "-" : "") + trim(x, i === 0 ? 0 : x < 10 ? 2 : x < 100 ? 1 : 0) + " " + units[i];
}

function tick(v, step, units) {
  const [x, i] = scaled(v, step, units);
  return (v < 0 ? "-" : "") + String(Number(x.toFixed(1))) + " " + units[i];
}

// bytes formats a byte count with binary prefixes: 1536 -> "1.5 KiB".
// Missing values (null, undefined, NaN) become an em dash so a host that
// cannot report a field never shows a misleading zero.
export function bytes(v) {
  return isNum(v) ? human(v, 1024, BIN) : "—";
}

// bytesAxis formats an axis tick: binary steps read "512 MiB", "1.5 GiB".
export function bytesAxis(v) {
  return isNum(v) ? tick(v, 1024, BIN) : "";
}

// rate formats bytes per second: 2048 -> "2.0 KiB/s".
export function rate(v) {
  return isNum(v) ? bytes(v) + "/s" : "—";
}

// bitRate formats bits per second with decimal prefixes, as Netdata and
// Glances show network traffic: 1.5e6 -> "1.50 Mbit/s".
export function bitRate(v) {
  return isNum(v) ? human(v, 1000, SI_BITS) : "—";
}

// bitRateAxis formats an axis tick of bits per second: "500 kbit/s",
// "1.5 Mbit/s".
export function bitRateAxis(v) {
  return isNum(v) ? tick(v, 1000, SI_BITS) : "";
}

// bytesToBits turns a byte count (or rate) into bits, keeping a missing
// value missing.
export function bytesToBits(v) {
  return isNum(v) ? v * 8 : null;
}

// percentOf is part as a percentage of total, null when either is unknown
// or total is not positive (a host without swap has no swap percent).
export function percentOf(part, total) {
  if (!isNum(part) || !isNum(total) || total <= 0) return null;
  return (part * 100) / total;
}

// pct formats a percentage with one decimal below 10 and none above.
export function pct(v) {
  if (!isNum(v)) return "—";
  return trim(v, Math.abs(v) < 10 ? 1 : 0) + " %";
}

// dfPercent is df's Use%: used of the space users can have (used + avail,
// so the blocks reserved for root don't count), a whole number rounded up
// as df rounds it, so a filesystem reads 100 % only when it is full. null
// when unknown.
export function dfPercent(used, avail) {
  if (!isNum(used) || !isNum(avail) || used + avail <= 0) return null;
  return Math.ceil((used * 100) / (used + avail));
}

// filesystem words one entry of the disk payload's filesystems the way
// `df -h` reads it: {pct, text}, pct (the bar's fill, null when unknown)
// and "14.2 GiB used, 74.5 GiB free of 252 GiB · 16 %". An entry without
// avail (an older server) falls back to the server's percent.
export function filesystem(f) {
  let p = dfPercent(f.used, f.avail);
  let shown = p === null ? "—" : p + " %";
  if (p === null && isNum(f.percent)) {
    p = f.percent;
    shown = pct(p);
  }
  const free = isNum(f.avail) ? `, ${bytes(f.avail)} free` : "";
  return { pct: p, text: `${bytes(f.used)} used${free} of ${bytes(f.total)} · ${shown}` };
}

// num formats a plain count (IOPS, packets/s, load) compactly.
export function num(v, digits = 2) {
  if (!isNum(v)) return "—";
  if (Math.abs(v) >= 1e6) return trim(v / 1e6, 1) + " M";
  if (Math.abs(v) >= 1e4) return trim(v / 1e3, 1) + " k";
  if (Math.abs(v) >= 100) return trim(v, 0);
  return trim(v, digits);
}

// duration formats milliseconds as "45 s", "6 min", "1 h 5 min", "2 d 3 h".
export function duration(ms) {
  if (!isNum(ms) || ms < 0) return "—";
  if (ms > 0 && ms < 1000) return Math.round(ms) + " ms";
  const s = Math.round(ms / 1000);
  if (s < 60) return s + " s";
  // Under an hour, minutes only: rounding 59.8 min up must not make "0 h".
  if (s < 3600) return Math.round(s / 60) + " min";
  const h = Math.floor(s / 3600);
  if (h < 48) {
    const rm = Math.floor((s % 3600) / 60);
    return rm ? `${h} h ${rm} min` : `${h} h`;
  }
  const d = Math.floor(s / 86400);
  const rh = Math.floor((s % 86400) / 3600);
  return rh ? `${d} d ${rh} h` : `${d} d`;
}

// clockDuration formats milliseconds as "hh:mm:ss" (hours grow past 24).
export function clockDuration(ms) {
  if (!isNum(ms) || ms < 0) ms = 0;
  const s = Math.floor(ms / 1000);
  return pad(Math.floor(s / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
}

// clock formats a unix-millisecond time as local "hh:mm:ss".
export function clock(tms) {
  if (!isNum(tms)) return "—";
  const d = new Date(tms);
  return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
}

// span formats a local time range "12:00:01–12:00:15".
export function span(from, to) {
  return clock(from) + "–" + clock(to);
}

export function isNum(v) {
  return typeof v === "number" && Number.isFinite(v);
}

function pad(n) {
  return n < 10 ? "0" + n : String(n);
}

function trim(x, digits) {
  return x.toFixed(digits);
}
