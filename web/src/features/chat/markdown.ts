/**
 * Model text → safe HTML. Two layers: raw HTML in the markdown is escaped (shown as text, never
 * parsed), and the rendered HTML is sanitized with DOMPurify against a short allowlist (no
 * images, no scripts, no event handlers, no styles; links open in a new tab without referrer).
 */
import DOMPurify from "dompurify";
import { Marked } from "marked";

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    // Raw HTML blocks and inline tags from the model are shown as text.
    html({ text }) {
      return escapeHtml(text);
    },
    // Images would fetch whatever URL the model wrote: show the alt text as a link instead.
    image({ href, text }) {
      return `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`;
    },
  },
});

const ALLOWED_TAGS = [
  "a", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p",
  "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul", "input",
];

let hooked = false;
function purifier(): typeof DOMPurify {
  if (!hooked) {
    hooked = true;
    DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A") {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
      // Task-list checkboxes only, never enabled.
      if (node.tagName === "INPUT") {
        if (node.getAttribute("type") !== "checkbox") node.remove();
        else node.setAttribute("disabled", "");
      }
    });
  }
  return DOMPurify;
}

/** Sanitized HTML for `markdown` (safe to put in `dangerouslySetInnerHTML`). */
export function renderMarkdown(markdown: string): string {
  const html = marked.parse(markdown) as string;
  return purifier().sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ["href", "title", "type", "checked", "disabled", "target", "rel", "align"],
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#)/i,
  });
}
