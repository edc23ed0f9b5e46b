-- Numbers headings the way the book does, for both HTML and typst output:
-- level 1 gets the chapter prefix (第二章 / 附录A), lower levels 2.1, 2.1.1 …
-- Metadata: pb-prefix (e.g. "第二章"), pb-number (e.g. "2"); empty means unnumbered page.
local prefix, number = "", ""
local counters = {0, 0, 0, 0, 0, 0}

local function numbered(el)
  return number ~= "" and not el.classes:includes("unnumbered")
end

function Meta(meta)
  if meta["pb-prefix"] then prefix = pandoc.utils.stringify(meta["pb-prefix"]) end
  if meta["pb-number"] then number = pandoc.utils.stringify(meta["pb-number"]) end
end

function Header(el)
  if not numbered(el) then return el end
  local text
  if el.level == 1 then
    text = prefix
  else
    counters[el.level] = counters[el.level] + 1
    for i = el.level + 1, #counters do counters[i] = 0 end
    local parts = {number}
    for i = 2, el.level do table.insert(parts, tostring(counters[i])) end
    text = table.concat(parts, ".")
  end
  local span = pandoc.Span({pandoc.Str(text)}, {class = "header-section-number"})
  el.content = {span, pandoc.Str("\u{3000}")} .. el.content
  return el
end

return {{Meta = Meta}, {Header = Header}}
