"""Chat answers as safe HTML: markdown-it with raw HTML off, images off, and its link validation (no
`javascript:`, `vbscript:`, `file:` or `data:` URLs). Every HTML the chat page shows comes from here."""

from markdown_it import MarkdownIt

_md = MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})
# An image in an answer could load a tracking pixel from anywhere; answers show links instead.
_md.disable("image")


def _link_open(renderer, tokens, idx, options, env):
    token = tokens[idx]
    token.attrSet("target", "_blank")
    token.attrSet("rel", "noopener noreferrer nofollow")
    return renderer.renderToken(tokens, idx, options, env)


_md.add_render_rule("link_open", _link_open)


def render_markdown(text: str) -> str:
    return _md.render(text or "")
