-- Numbers headings the way the book does, for both HTML and typst output:
-- level 1 gets the chapter prefix (第二章 / 附录A), lower levels 2.1, 2.1.1 …
-- Metadata: pb-prefix (e.g. "第二章"), pb-number (e.g. "2"); empty means unnumbered page.
-- A document of several pages (the Word edition, book.docx) wraps each page in
-- ::: {.pb-page pb-prefix="第二章" pb-number="2"}, numbered by its own attributes and unwrapped.
local prefix, number = "", ""
local counters = {0, 0, 0, 0, 0, 0}

local function numbered(el, num)
  return num ~= "" and not el.classes:includes("unnumbered")
end

local function number_header(el, pre, num, count)
  if not numbered(el, num) then return el end
  local text
  if el.level == 1 then
    text = pre
  else
    count[el.level] = count[el.level] + 1
    for i = el.level + 1, #count do count[i] = 0 end
    local parts = {num}
    for i = 2, el.level do table.insert(parts, tostring(count[i])) end
    text = table.concat(parts, ".")
  end
  local span = pandoc.Span({pandoc.Str(text)}, {class = "header-section-number"})
  el.content = {span, pandoc.Str("\u{3000}")} .. el.content
  return el
end

function Meta(meta)
  if meta["pb-prefix"] then prefix = pandoc.utils.stringify(meta["pb-prefix"]) end
  if meta["pb-number"] then number = pandoc.utils.stringify(meta["pb-number"]) end
end

function Header(el)
  return number_header(el, prefix, number, counters)
end

local function page(div)
  if not div.classes:includes("pb-page") then return nil end
  local pre, num = div.attributes["pb-prefix"] or "", div.attributes["pb-number"] or ""
  local count = {0, 0, 0, 0, 0, 0}
  return div.content:walk({Header = function(el) return number_header(el, pre, num, count) end})
end

return {{Meta = Meta}, {Div = page}, {Header = Header}}
