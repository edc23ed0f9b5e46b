-- Typst only, for single documents (the monthly briefing): a short paragraph that leads
-- into a table ("牵头5项：绿灯3、黄灯2。" between a department's heading and its table)
-- sticks to the table, so a page never ends with a heading and its lead-in alone.
-- Headings already stick to what follows them.
local function is_table(block)
  return block and (block.t == "Table" or block.t == "Figure")
end

function Blocks(blocks)
  if not FORMAT:match("typst") then
    return nil
  end
  local out = pandoc.List()
  for i, block in ipairs(blocks) do
    if block.t == "Para" and is_table(blocks[i + 1]) and i > 1 and blocks[i - 1].t == "Header" then
      local body = pandoc.write(pandoc.Pandoc({block}), "typst")
      out:insert(pandoc.RawBlock("typst", "#block(sticky: true)[\n" .. body .. "]"))
    else
      out:insert(block)
    end
  end
  return out
end
