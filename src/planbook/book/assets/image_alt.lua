-- PDF/UA-1: every image needs alt text, and pandoc's typst writer drops an image's
-- description. An image with `fig-alt` (the cell's #| fig-alt, the text the HTML `alt` shows)
-- becomes typst's own image(…, alt: …); one without it stays as pandoc writes it, so typst's
-- PDF/UA-1 export refuses the document (planbook.book.pdf names the figure in Chinese).
if not FORMAT:match("typst") then
  return {}
end

local function str(s)
  return '"' .. s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", "\\n") .. '"'
end

-- `inline`: in running text the image is boxed, as pandoc does; a figure's image is bare.
local function image(img, inline)
  local alt = img.attributes["fig-alt"]
  if not alt or alt == "" then
    return nil
  end
  local args = { str(img.src) }
  local width = img.attributes["width"]
  if width then
    args[#args + 1] = "width: " .. width
  end
  args[#args + 1] = "alt: " .. str(alt)
  local call = "image(" .. table.concat(args, ", ") .. ")"
  return pandoc.RawInline("typst", inline and ("#box(" .. call .. ")") or ("#" .. call))
end

return {
  { Figure = function(fig)
      return fig:walk({ Image = function(img) return image(img, false) end })
    end },
  { Image = function(img) return image(img, true) end },
}
