-- Quarto's HTML: a table wider than the column scrolls inside its own box, as on the built-in
-- pages (html.scrollable): the box is keyboard-reachable and a named region (axe
-- scrollable-region-focusable; names numbered, as axe asks them unique). Markdown tables
-- (index.qmd, the register) get a box around them; a notebook's HTML table output already
-- sits in Quarto's output div, which becomes the box. Run after Quarto's own filters
-- (`at: post-render`), so its table floats and captions are made first. Typst: nothing.
local count = 0

local function name()
  count = count + 1
  return "表格" .. count
end

function Table(el)
  if not FORMAT:match("html") then
    return nil
  end
  return pandoc.Div({el}, pandoc.Attr("", {"pb-table-wrap"},
    {tabindex = "0", role = "region", ["aria-label"] = name()}))
end

local function holds_html_table(div)
  for _, block in ipairs(div.content) do
    if block.t == "RawBlock" and block.format:match("html") and block.text:find("<table", 1, true) then
      return true
    end
  end
  return false
end

function Div(el)
  if not FORMAT:match("html") or not el.classes:includes("cell-output-display")
      or not holds_html_table(el) then
    return nil
  end
  el.classes:insert("pb-table-wrap")
  el.attributes.tabindex = "0"
  el.attributes.role = "region"
  el.attributes["aria-label"] = name()
  return el
end
