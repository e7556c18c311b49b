// Names what makes the page wider than the viewport, for a failing phone-width test to print.
// First the innermost elements and text whose box passes the right edge; when no box does (a ::before or
// ::after, say), the element whose hiding brings the page back within the edge, found from <body> down.
() => {
  const edge = document.documentElement.clientWidth;
  const tooWide = () => document.documentElement.scrollWidth > edge;
  const past = (rect) => rect.right > edge + 0.5;
  const describe = (el) => {
    const classes = typeof el.className === "string" ? el.className.trim().split(/\s+/).filter(Boolean) : [];
    return el.tagName.toLowerCase() + (el.id ? `#${el.id}` : "") + classes.map((c) => `.${c}`).join("");
  };
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (past(el.getBoundingClientRect()) && ![...el.children].some((c) => past(c.getBoundingClientRect()))) {
      found.push(`${describe(el)} (right edge at ${Math.round(el.getBoundingClientRect().right)} px)`);
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    range.selectNodeContents(text);
    if (text.textContent.trim() && past(range.getBoundingClientRect())) {
      found.push(`text "${text.textContent.trim().slice(0, 40)}" in ${describe(text.parentElement)}`);
    }
  }
  if (found.length === 0 && tooWide()) {
    const path = [];
    let node = document.body;
    for (let narrowed = true; narrowed; ) {
      narrowed = false;
      for (const child of node.children) {
        const display = child.style.display;
        child.style.display = "none";
        const fits = !tooWide();
        child.style.display = display;
        if (fits) {
          path.push(describe(child));
          node = child;
          narrowed = true;
          break;
        }
      }
    }
    found.push(`hiding ${path.join(" > ") || "no single element"} removes the overflow (look at its ::before/::after too)`);
  }
  return found.slice(0, 10);
}
