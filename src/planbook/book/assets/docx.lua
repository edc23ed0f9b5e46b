-- The Word edition (planbook.book.docx), docx only: Word styles of assets/reference.docx
-- for what the HTML book styles with classes, and tables an office can work with.
--   light dots [●]{.pb-dot .pb-dot-red}      → character style Light Red (…Green/Yellow/Grey)
--   ::: {.pb-evaluator} (评估组意见)           → paragraph style Evaluator (framed)
--   a figure's fig-alt                         → the picture's alt text (Word 替换文字)
--   tables                                     → widths for Word's page, a column of numbers
--                                                right-aligned, the header row in bold
--   a link to a place outside the document (a page of the 技术附件, an HTML page) → its text
-- pandoc marks a table's header row as one Word repeats on every page (w:tblHeader).
if not FORMAT:match("docx") then
  return {}
end

local dot_styles = {
  ["pb-dot-green"] = "Light Green", ["pb-dot-yellow"] = "Light Yellow",
  ["pb-dot-red"] = "Light Red", ["pb-dot-grey"] = "Light Grey",
}

local function Span(el)
  if not el.classes:includes("pb-dot") then
    return nil
  end
  for class, name in pairs(dot_styles) do
    if el.classes:includes(class) then
      return pandoc.Span(el.content, {["custom-style"] = name})
    end
  end
  return nil
end

local function Div(el)
  if el.classes:includes("pb-evaluator") then
    return pandoc.Div(el.content, {["custom-style"] = "Evaluator"})
  end
  return nil
end

local function Image(el)
  local alt = el.attributes["fig-alt"]
  if alt then
    el.attributes["fig-alt"] = nil
    el.caption = {pandoc.Str(alt)}
    return el
  end
  return nil
end

-- A number as the tables print one, the whole cell: 1,376 / 61.7% / -0.6 / ≥99.98 /
-- 688（2022） / 467.7亿元（2022） / +0.6个百分点 (not 351国道建德段开工); a dash (no value) does not count either way (nil). Byte-wise:
-- Lua patterns do not know UTF-8, so the signs are compared as strings.
local SIGNS = {"+", "-", "\u{2212}", "≥", "≤", "＞", "＜", ">", "<"}

local function numeric(text)
  if text == "" or text == "—" or text == "-" then
    return nil
  end
  local core = text
  for _, sign in ipairs(SIGNS) do
    if core:sub(1, #sign) == sign then
      core = core:sub(#sign + 1)
      break
    end
  end
  local rest = core:match("^%d[%d,%.]*(.*)$")
  if rest == nil then
    return false
  end
  -- a unit of a few characters (亿元, 倍, %), then perhaps the year (（2022）)
  local unit = rest:match("^(.-)（%d+）$") or rest
  local n = utf8.len(unit)
  -- (2027年开工 is a date and a stage, not a number)
  return n ~= nil and (unit == "个百分点" or unit == "%"
    or (n <= 3 and not unit:find("[%w%s%p]") and unit:sub(1, 3) ~= "年"))
end

local function cell_text(cell)
  return pandoc.utils.stringify(cell.contents)
end

-- A header cell's text in bold: pandoc writes every cell in style Compact, and a paragraph
-- style outranks the table style's header-row font.
local function strong(cell)
  cell.contents = cell.contents:walk({
    Plain = function(b) return pandoc.Plain({pandoc.Strong(b.content)}) end,
    Para = function(b) return pandoc.Para({pandoc.Strong(b.content)}) end,
  })
end

-- pandoc gives table cells and tight list items the same style (Compact), which is the
-- table text here; list items in the body are made loose, so they read as body text.
local function loosen(list)
  list.content = list.content:map(function(item)
    return item:map(function(b)
      return b.t == "Plain" and pandoc.Para(b.content) or b
    end)
  end)
  return list
end

-- Display width in half-em columns: a CJK character takes two.
local function width(text)
  local w = 0
  for _, code in utf8.codes(text) do
    w = w + ((code >= 0x2E80 and code ~= 0x200B) and 2 or (code == 0x200B and 0 or 1))
  end
  return w
end

-- Column widths for the page (reference.docx: 156 mm of 小五 table text, about 98 half-em
-- columns; a cell's margins take about 2): a table that fits gets each column its longest cell; one that
-- does not keeps its short columns (numbers, status words: at most SHORT) on one line and
-- shares the rest among the long ones by their length. The pages' dash counts were sized for
-- the PDF's smaller type, so numbers there would wrap in Word.
local PAGE, PAD, SHORT, LONG = 98, 2, 18, 40

local function widths(tbl, ncols)
  local natural = {}
  for i = 1, ncols do
    natural[i] = 0
  end
  for _, row in ipairs(tbl.head.rows) do
    for i, cell in ipairs(row.cells) do
      -- a header may take two lines
      natural[i] = math.max(natural[i], math.ceil(width(cell_text(cell)) / 2))
    end
  end
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      for i, cell in ipairs(row.cells) do
        natural[i] = math.max(natural[i], width(cell_text(cell)))
      end
    end
  end
  local total, short, long = 0, 0, 0
  for i = 1, ncols do
    -- one very long cell (a 合计 row's summary) must not starve the other long columns
    natural[i] = math.min(math.max(natural[i], 2) + PAD, LONG)
    total = total + natural[i]
    if natural[i] <= SHORT then short = short + natural[i] else long = long + natural[i] end
  end
  local out = {}
  for i = 1, ncols do
    if total <= PAGE then
      out[i] = natural[i] / PAGE
    elseif natural[i] <= SHORT or long == 0 then
      out[i] = natural[i] / PAGE
    else
      out[i] = natural[i] / long * math.max(PAGE - short, PAGE * 0.2) / PAGE
    end
  end
  local sum = 0
  for i = 1, ncols do sum = sum + out[i] end
  if sum > 1 then
    for i = 1, ncols do out[i] = out[i] / sum end
  end
  return out
end

local function Table(tbl)
  local ncols = #tbl.colspecs
  local numbers, values = {}, {}
  for i = 1, ncols do
    numbers[i], values[i] = true, 0
  end
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      for i, cell in ipairs(row.cells) do
        local is_num = numeric(cell_text(cell))
        if is_num ~= nil then
          values[i] = values[i] + 1
          numbers[i] = numbers[i] and is_num
        end
      end
    end
  end
  local fit = widths(tbl, ncols)
  for i = 1, ncols do
    local align = tbl.colspecs[i][1]
    if numbers[i] and values[i] > 0 then
      align = pandoc.AlignRight
    end
    tbl.colspecs[i] = {align, fit[i]}
  end
  -- in a column mixing numbers and words (未启动 / 896.3), the numbers alone go right
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      for i, cell in ipairs(row.cells) do
        if not numbers[i] and numeric(cell_text(cell)) then
          cell.alignment = pandoc.AlignRight
        end
      end
    end
  end
  for _, row in ipairs(tbl.head.rows) do
    for _, cell in ipairs(row.cells) do
      strong(cell)
    end
  end
  return tbl
end

-- Links: first every target the document defines, then unlink the rest.
local defined = {}

local function note_id(el)
  if el.identifier and el.identifier ~= "" then
    defined[el.identifier] = true
  end
end

local function Link(el)
  local target = el.target
  if target:match("^https?:") or target:match("^mailto:") then
    return nil
  end
  local anchor = target:match("^#(.+)$")
  if anchor and defined[anchor] then
    return nil
  end
  return el.content
end

return {
  {Header = note_id, Div = note_id, Span = note_id, Figure = note_id, Table = note_id,
   Image = note_id},
  {Span = Span, Div = Div, Image = Image, Table = Table, Link = Link,
   BulletList = loosen, OrderedList = loosen},
}
