-- Status-light dots that notebooks write as bracketed spans: [●]{.pb-dot .pb-dot-red}.
-- HTML keeps the span (book.css, or the briefing's Quarto header, colours .pb-dot-*);
-- typst gets the dot as text in the light's colour. Used by the built-in engine and, as a
-- `filters:` entry, by the briefing's Quarto config. Colours: planbook.chapters.display.LIGHT_COLOURS.
local colours = {
  {"pb-dot-green", "#2e7d32"},
  {"pb-dot-yellow", "#f2b705"},
  {"pb-dot-red", "#c62828"},
  {"pb-dot-grey", "#9e9e9e"},
}

function Span(el)
  if not FORMAT:match("typst") or not el.classes:includes("pb-dot") then
    return nil
  end
  for _, c in ipairs(colours) do
    if el.classes:includes(c[1]) then
      local text = pandoc.utils.stringify(el):gsub("[%[%]#\\]", "")
      return pandoc.RawInline("typst", '#text(fill: rgb("' .. c[2] .. '"))[' .. text .. "]")
    end
  end
  return nil
end
