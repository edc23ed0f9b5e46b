-- Blocks and spans for one format only, as Quarto reads them (it applies these itself):
--   ::: {.content-visible when-format="html"}  shown in the HTML book only
--   ::: {.content-hidden when-format="html"}   shown everywhere but the HTML (the PDF)
--   [text]{.content-visible when-format="html"} the same for a part of a sentence
-- The PDF lists the first items of a long list and says how many there are; the HTML keeps
-- every item (chapters.display.capped_list).
local function hit(when)
  return FORMAT == when or FORMAT:match("^" .. when) ~= nil
end

local function choose(el)
  local when = el.attributes["when-format"]
  if not when then
    return nil
  end
  if el.classes:includes("content-visible") then
    return hit(when) and el.content or {}
  end
  if el.classes:includes("content-hidden") then
    return hit(when) and {} or el.content
  end
  return nil
end

Div = choose
Span = choose
