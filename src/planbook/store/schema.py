"""The observation row: its columns, statuses and the Table Schema fields with their Chinese
titles (the headers a department may use). Shared by the store, the village records and intake."""

from __future__ import annotations

COLUMNS = ("indicator_id", "period", "value", "unit", "status", "source", "submitted_by",
           "received_at", "revision", "note", "file_sha256")
SCHEMA_FILE = "observation.schema.json"
STATUSES = ("official", "provisional", "sample")
STATUS_ZH = {"official": "正式统计", "provisional": "部门报送", "sample": "示例数据"}

# Field meanings for the Table Schema; Chinese titles are the headers a department may use.
FIELDS = [
    {"name": "indicator_id", "title": "指标编号", "type": "string",
     "constraints": {"required": True}},
    {"name": "period", "title": "期间", "type": "string", "constraints": {
        "required": True, "pattern": r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$"}},
    {"name": "value", "title": "数值", "type": "number", "constraints": {"required": True}},
    {"name": "unit", "title": "单位", "type": "string"},
    {"name": "status", "title": "数据状态", "type": "string",
     "constraints": {"required": True, "enum": list(STATUSES)}},
    {"name": "source", "title": "数据来源", "type": "string"},
    {"name": "submitted_by", "title": "报送单位", "type": "string"},
    {"name": "received_at", "title": "接收时间", "type": "datetime"},
    {"name": "revision", "title": "修订版次", "type": "integer",
     "constraints": {"required": True, "minimum": 1}},
    {"name": "note", "title": "备注", "type": "string"},
    {"name": "file_sha256", "title": "来源文件SHA256", "type": "string"},
]

# The published data's licence, stated by every data package planbook writes (the store's
# datapackage.json and each report's data-<P>.zip). The code is MIT (LICENSE).
DATA_LICENSES = [{
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0 International",
}]
# What the licence covers when the rows are sample data: illustrative, not statistics.
SAMPLE_DATA_NOTE = ("status 为 sample 的行是 planbook sample 生成的示例数据（虚构，仅用于演示"
                    "评估方法与报告格式），不是官方统计，不得作为统计数据引用。")
