-- Status-light dots that notebooks write as bracketed spans: [●]{.pb-dot .pb-dot-red}.
-- typst gets the dot as text in the light's colour. HTML keeps an empty span that book.css
-- (or the briefing's Quarto header) draws the glyph into (::before, from data-glyph): a
-- checker then sees no one-character text to measure as if it were words (axe asks a human
-- to review every such dot), and a screen reader skips it (aria-hidden): the light's word
-- follows the dot. Used by the built-in engine and, as a `filters:` entry, by the briefing's
-- Quarto config. Colours: planbook.chapters.display.LIGHT_COLOURS (tests/test_validators.py).
local colours = {
  {"pb-dot-green", "#2e7d32"},
  {"pb-dot-yellow", "#b07d00"},
  {"pb-dot-red", "#c62828"},
  {"pb-dot-grey", "#767676"},
}

function Span(el)
  if not el.classes:includes("pb-dot") then
    return nil
  end
  local text = pandoc.utils.stringify(el):gsub("[%[%]#\\]", "")
  if FORMAT:match("html") then
    el.attributes["data-glyph"] = text
    el.attributes["aria-hidden"] = "true"
    el.content = {}
    return el
  end
  if not FORMAT:match("typst") then
    return nil
  end
  for _, c in ipairs(colours) do
    if el.classes:includes(c[1]) then
      return pandoc.RawInline("typst", '#text(fill: rgb("' .. c[2] .. '"))[' .. text .. "]")
    end
  end
  return nil
end
