-- 任务评估 blocks: the evaluator's judgement (a ::: {.pb-evaluator} div) is set apart from
-- computed lights and department text. HTML styles the div (book.css); typst gets a framed
-- block in the same colours.
function Div(el)
  if not FORMAT:match("typst") or not el.classes:includes("pb-evaluator") then
    return nil
  end
  local out = {pandoc.RawBlock("typst", '#block(width: 100%, breakable: true, '
    .. 'fill: rgb("#f1f3fb"), stroke: (left: 2.5pt + rgb("#3949ab")), inset: (x: 8pt, y: 6pt))[')}
  for _, b in ipairs(el.content) do
    table.insert(out, b)
  end
  table.insert(out, pandoc.RawBlock("typst", "]"))
  return out
end
