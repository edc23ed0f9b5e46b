-- Text reaches the PDF character for character: pandoc's typst writer escapes quotes and
-- dashes (the reader runs without `smart`), but leaves "...", "-?" and a "-" before a digit
-- to typst, whose markup makes them an ellipsis, a soft hyphen and a minus sign. Those
-- characters are written escaped instead. Used by the built-in engine for typst;
-- planbook.escape says which text is escaped where.
local function next_shorthand(text)
  -- the first shorthand in `text`: its start and end
  local best_s, best_e
  for _, pattern in ipairs({"%.%.%.", "%-%?", "%-%d"}) do
    local s, e = text:find(pattern)
    if s and (not best_s or s < best_s) then
      best_s, best_e = s, (pattern == "%-%d") and s or e
    end
  end
  return best_s, best_e
end

function Str(el)
  if not FORMAT:match("typst") or not next_shorthand(el.text) then
    return nil
  end
  local out, rest = {}, el.text
  while #rest > 0 do
    local s, e = next_shorthand(rest)
    if not s then
      table.insert(out, pandoc.Str(rest))
      break
    end
    if s > 1 then
      table.insert(out, pandoc.Str(rest:sub(1, s - 1)))
    end
    table.insert(out, pandoc.RawInline("typst", (rest:sub(s, e):gsub(".", "\\%0"))))
    rest = rest:sub(e + 1)
  end
  return out
end
