"""The site's fixed structure: sections, groups and their roles. Used by the default profile."""

from finserv.core.codes import SHANGHAI_DISTRICTS
from finserv.core.scope import district_group_id

# (id, title, description, allowed types, layout); order is the navigation order.
SECTIONS = [
    ("policies", "政策文件", "国家、市、区各级金融政策文件，可按层级、主题、行业、区域与日期筛选，支持中文全文检索。", ["Policy"], "policy-listing"),
    ("news", "新闻动态", "金融办工作动态与行业新闻。", ["News Item"], "listing_view"),
    ("notices", "通知公告", "通知、公告与公示。", ["Document", "File"], "listing_view"),
    ("forum", "金融论坛", "金融论坛及金融服务活动的发布、报名、审核、签到与归档。", ["Document", "Folder"], "listing_view"),
    ("talent", "人才实践基地", "金融人才实践基地挂职岗位发布、人才派遣与双向选择。", ["Document", "Folder"], "listing_view"),
    ("support", "扶持政策申报", "金融机构扶持政策与上海金融人才奖的申报、审核与扶持金额计算。", ["Document", "Folder"], "listing_view"),
    ("financing", "融资服务", "金融产品超市、政策匹配、融资申请与银行受理。", ["Document", "Folder"], "listing_view"),
    ("compensation", "风险补偿", "中小企业知识产权质押贷款风险“前补偿”申报、报送与审核。", ["Document", "Folder"], "listing_view"),
    ("contracts", "技术合同登记", "技术合同认定登记、技术转移机构与技术经理人登记。", ["Document", "Folder"], "listing_view"),
]

DISTRICT_ZONE = ("districts", "区级专区", "各区金融办的内部资料，仅本区工作人员和市金融办可见。")

# (group id, title, global roles)
GROUPS = [
    ("sys-admins", "系统管理员", ["Site Administrator"]),
    ("office-staff", "金融办工作人员", ["Member"]),
    ("content-editors", "内容编辑", ["Contributor", "Editor"]),
    ("content-reviewers", "内容审核", ["Reviewer"]),
    ("institutions", "银行及金融机构", ["Member"]),
    ("enterprises", "企业用户", ["Member"]),
    ("public", "公众注册用户", ["Member"]),
] + [
    (district_group_id(code), f"{name}金融办", ["Member"]) for code, name in SHANGHAI_DISTRICTS.items()
]
