// A manual accessibility checklist, run inside Chromium on a rendered page (WebDriver
// `execute`, so this is a function body). Not a replacement for axe-core or a screen reader,
// but every rule here is one a person checks by hand, so a regression fails `cargo test`.
//
// arguments[0] == "audit":   returns {problems: [{rule, at, detail}], tab_stops: [describe()]}
// arguments[0] == "focused": returns how the focused element shows its focus.

const describe = (el) => {
  if (!el || el === document || el === document.documentElement) return 'document';
  if (el === document.body) return 'body';
  let s = el.tagName.toLowerCase();
  if (el.id) s += '#' + el.id;
  else if (typeof el.className === 'string' && el.className.trim()) s += '.' + el.className.trim().split(/\s+/).join('.');
  if (el.tagName === 'INPUT' && el.value && !el.id) s += `[value=${el.value}]`;
  const text = (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 40);
  return text ? `${s} "${text}"` : s;
};

const visible = (el) => {
  const s = getComputedStyle(el);
  return s.display !== 'none' && s.visibility !== 'hidden' && el.getClientRects().length > 0;
};

// --- colour ----------------------------------------------------------------------------------

const parseColor = (css) => {
  let m = css.match(/^rgba?\(([^)]+)\)$/);
  if (m) {
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(parseFloat);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  }
  m = css.match(/^color\(srgb ([^)]+)\)$/);
  if (m) {
    const p = m[1].split(/[\s\/]+/).filter(Boolean).map(parseFloat);
    return { r: p[0] * 255, g: p[1] * 255, b: p[2] * 255, a: p.length > 3 ? p[3] : 1 };
  }
  return null;
};
const over = (top, under) => ({
  r: top.r * top.a + under.r * (1 - top.a),
  g: top.g * top.a + under.g * (1 - top.a),
  b: top.b * top.a + under.b * (1 - top.a),
  a: 1,
});
const luminance = (c) => {
  const lin = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
};
const contrast = (a, b) => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
};
// The solid colour behind `el`: its own and its ancestors' background colours, composited.
// `null` when an image or gradient is in the way (then a person has to look).
const backgroundOf = (el) => {
  const layers = [];
  for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
    const s = getComputedStyle(n);
    if (s.backgroundImage !== 'none') return null;
    const c = parseColor(s.backgroundColor);
    if (c === null) return null;
    if (c.a > 0) { layers.push(c); if (c.a >= 1) break; }
  }
  let base = { r: 255, g: 255, b: 255, a: 1 };
  for (const layer of layers.reverse()) base = over(layer, base);
  return base;
};

// --- names -----------------------------------------------------------------------------------

const textOf = (node) => {
  let text = '';
  for (const ch of node.childNodes) {
    if (ch.nodeType === 3) text += ch.textContent;
    else if (ch.nodeType === 1 && ch.getAttribute('aria-hidden') !== 'true') {
      text += ' ' + (ch.tagName === 'IMG' ? (ch.getAttribute('alt') || '') : textOf(ch));
    }
  }
  return text.replace(/\s+/g, ' ').trim();
};
const accessibleName = (el) => {
  const labelledby = el.getAttribute('aria-labelledby');
  if (labelledby) {
    return labelledby.split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean).map(textOf).join(' ').trim();
  }
  const aria = (el.getAttribute('aria-label') || '').trim();
  if (aria) return aria;
  if (el.labels && el.labels.length) return [...el.labels].map(textOf).join(' ').trim();
  if (el.tagName === 'INPUT') {
    if (['submit', 'button', 'reset'].includes(el.type)) return (el.value || '').trim();
    if (el.type === 'image') return (el.alt || '').trim();
    return (el.getAttribute('title') || '').trim();
  }
  return textOf(el) || (el.getAttribute('title') || '').trim();
};

// --- tab order -------------------------------------------------------------------------------

// Where Tab should stop, in order: no positive tabindex, so document order; a radio group is
// one stop (its checked radio, or its first).
const tabStops = () => {
  const all = [...document.querySelectorAll('a[href], area[href], button, input, select, textarea, summary, iframe, [tabindex], [contenteditable]')]
    .filter((el) => !el.disabled && el.tabIndex >= 0 && el.type !== 'hidden' && visible(el) && !el.closest('[inert]'));
  const groups = new Set();
  const stops = [];
  for (const el of all) {
    if (el.tagName === 'INPUT' && el.type === 'radio' && el.name) {
      if (groups.has(el.name)) continue;
      groups.add(el.name);
      const group = all.filter((x) => x.type === 'radio' && x.name === el.name && x.form === el.form);
      stops.push(group.find((x) => x.checked) || group[0]);
    } else {
      stops.push(el);
    }
  }
  return stops;
};

// --- the checklist ---------------------------------------------------------------------------

const audit = () => {
  const problems = [];
  const add = (rule, el, detail) => problems.push({ rule, at: describe(el), detail: detail || '' });
  const $$ = (sel) => [...document.querySelectorAll(sel)];

  // The page: language, title, zoomable viewport, exactly one main and one h1.
  if (!document.documentElement.lang) add('html-lang', document, 'no <html lang>');
  if (!document.title.trim()) add('document-title', document, 'empty <title>');
  const viewport = document.querySelector('meta[name=viewport]');
  const vp = viewport ? viewport.content.replace(/\s/g, '') : '';
  if (!vp.includes('width=device-width') || /user-scalable=(no|0)/.test(vp) || /maximum-scale=(0|1)(\.|,|$)/.test(vp)) {
    add('meta-viewport', viewport || document, vp || 'missing');
  }
  const mains = $$('main, [role=main]');
  if (mains.length !== 1) add('one-main', document, `${mains.length} main landmarks`);
  const h1s = $$('h1').filter(visible);
  if (h1s.length !== 1) add('one-h1', document, `${h1s.length} visible h1`);

  // Headings go down one level at a time.
  let level = 0;
  for (const h of $$('h1, h2, h3, h4, h5, h6').filter(visible)) {
    const next = Number(h.tagName[1]);
    if (next > level + 1) add('heading-order', h, `h${next} after h${level}`);
    if (!textOf(h)) add('accessible-name', h, 'empty heading');
    level = next;
  }

  // Images say what they show (alt="" only for decoration).
  for (const img of $$('img')) {
    if (!img.hasAttribute('alt')) add('img-alt', img, img.getAttribute('src'));
  }

  // Every form control has a label; radio and checkbox groups have a legend.
  for (const el of $$('input, select, textarea')) {
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type)) continue;
    if (!accessibleName(el)) add('control-label', el, `${el.type || el.tagName} without a label`);
  }
  const groupNames = new Set($$('input[type=radio], input[type=checkbox]').map((el) => el.name).filter(Boolean));
  for (const name of groupNames) {
    const members = $$('input[type=radio], input[type=checkbox]').filter((el) => el.name === name);
    if (members.length < 2) continue;
    const fieldset = members[0].closest('fieldset');
    const legend = fieldset && fieldset.querySelector(':scope > legend');
    if (!legend || !textOf(legend) || !members.every((m) => fieldset.contains(m))) {
      add('group-legend', members[0], `group "${name}" is not a fieldset with a legend`);
    }
  }

  // Everything you can activate says what it does.
  for (const el of $$('a[href], button, summary, [role=button], [role=link], input[type=submit], input[type=button], input[type=reset]')) {
    if (!accessibleName(el)) add('accessible-name', el, 'no accessible name');
  }

  // No positive tabindex (it breaks the reading order), no duplicate ids.
  for (const el of $$('[tabindex]')) {
    if (el.tabIndex > 0) add('positive-tabindex', el, `tabindex=${el.getAttribute('tabindex')}`);
  }
  const ids = new Map();
  for (const el of $$('[id]')) ids.set(el.id, (ids.get(el.id) || 0) + 1);
  for (const [id, n] of ids) if (n > 1) add('duplicate-id', document, `#${id} × ${n}`);

  // In-page links lead somewhere.
  for (const a of $$('a[href^="#"]')) {
    const id = decodeURIComponent(a.getAttribute('href').slice(1));
    if (id && !document.getElementById(id)) add('in-page-link-target', a, `#${id} does not exist`);
  }

  // Lists contain list items only.
  for (const list of $$('ul, ol')) {
    for (const child of list.children) {
      if (!['LI', 'SCRIPT', 'TEMPLATE'].includes(child.tagName)) add('list-structure', child, `<${child.tagName.toLowerCase()}> directly in <${list.tagName.toLowerCase()}>`);
    }
  }

  // Text contrast, WCAG 1.4.3 AA: 4.5:1, or 3:1 for large text.
  for (const el of $$('body *')) {
    if (!visible(el) || el.closest('[aria-hidden=true]')) continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const s = getComputedStyle(el);
    const bg = backgroundOf(el);
    const fg = parseColor(s.color);
    if (fg === null) { add('contrast', el, `cannot read colour ${s.color}`); continue; }
    if (bg === null) continue;
    const size = parseFloat(s.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
    const ratio = contrast(over(fg, bg), bg);
    const needed = large ? 3 : 4.5;
    if (ratio < needed) add('contrast', el, `${ratio.toFixed(2)}:1, needs ${needed}:1`);
  }

  // Targets are at least 24×24 CSS px (WCAG 2.5.8); inline links inside text are exempt.
  for (const el of $$('button, [role=button], input[type=submit], input[type=button], input[type=reset], a[href]')) {
    if (!visible(el)) continue;
    if (el.tagName === 'A' && getComputedStyle(el).display === 'inline') continue;
    const r = el.getBoundingClientRect();
    if (r.width < 24 || r.height < 24) add('target-size', el, `${Math.round(r.width)}×${Math.round(r.height)}`);
  }

  // Links inside running text are underlined, not told apart by colour alone (WCAG 1.4.1).
  for (const a of $$('p a[href], li a[href], td a[href], dd a[href], figcaption a[href]')) {
    if (getComputedStyle(a).display !== 'inline') continue;
    const parentText = textOf(a.parentElement).replace(textOf(a), '').trim();
    if (parentText && !getComputedStyle(a).textDecorationLine.includes('underline')) {
      add('link-underline', a, 'a link in text without an underline');
    }
  }

  return { problems, tab_stops: tabStops().map(describe) };
};

// How the focused element shows focus (WCAG 2.4.7), and the ring's contrast with what is
// around it (WCAG 1.4.11: 3:1).
const focused = () => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const shadow = s.boxShadow !== 'none';
  let ring_contrast = null;
  if (outline) {
    const ring = parseColor(s.outlineColor);
    // An outline is drawn outside the border box, over whatever is behind the element.
    const behind = backgroundOf(el.parentElement || el);
    if (ring && behind) ring_contrast = contrast(over(ring, behind), behind);
  }
  return { at: describe(el), outline, shadow, ring_contrast };
};

return arguments[0] === 'focused' ? focused() : audit();
