"""The membership vocabulary the pages share, in both languages: application status, standing,
tier, organisation type and segment (the API's values as people read them). A page catalogue built
with ``with_terms`` holds them; its own entries win."""

from __future__ import annotations

from collections.abc import Mapping

MEMBERSHIP_TERMS: dict[str, dict[str, str]] = {
    "en": {
        "status.submitted": "Submitted",
        "status.accepted_for_decision": "Awaiting the council's decision",
        "status.changes_requested": "Changes requested",
        "status.rejected": "Rejected",
        "status.admitted": "Admitted",
        "standing.pending": "Pending",
        "standing.new": "New",
        "standing.current": "Current",
        "standing.grace": "Grace period",
        "standing.expired": "Expired",
        "standing.suspended": "Suspended",
        "standing.withdrawn": "Withdrawn",
        "standing.expelled": "Expelled",
        "tier.council_member": "Council member",
        "tier.ordinary_member": "Ordinary member",
        "tier.observer": "Observer",
        "org_type.enterprise": "Enterprise",
        "org_type.university": "University",
        "org_type.research_institute": "Research institute",
        "org_type.ip_service_agency": "IP service agency",
        "segment.substrate": "Substrate",
        "segment.epitaxy": "Epitaxy",
        "segment.chip": "Chip",
        "segment.packaging": "Packaging",
        "segment.application": "Application",
        "segment.equipment": "Equipment",
        "segment.materials": "Materials",
    },
    "zh": {
        "status.submitted": "已提交",
        "status.accepted_for_decision": "待理事会决定",
        "status.changes_requested": "需修改",
        "status.rejected": "已拒绝",
        "status.admitted": "已入会",
        "standing.pending": "待生效",
        "standing.new": "新会员",
        "standing.current": "有效",
        "standing.grace": "宽限期",
        "standing.expired": "已过期",
        "standing.suspended": "已暂停",
        "standing.withdrawn": "已退会",
        "standing.expelled": "已除名",
        "tier.council_member": "理事单位",
        "tier.ordinary_member": "普通会员",
        "tier.observer": "观察员",
        "org_type.enterprise": "企业",
        "org_type.university": "高校",
        "org_type.research_institute": "科研院所",
        "org_type.ip_service_agency": "知识产权服务机构",
        "segment.substrate": "衬底",
        "segment.epitaxy": "外延",
        "segment.chip": "芯片",
        "segment.packaging": "封装",
        "segment.application": "应用",
        "segment.equipment": "设备",
        "segment.materials": "材料",
    },
}


def with_terms(messages: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """A page's messages with the membership vocabulary under them (for ``Catalogue``)."""
    return {lang: {**MEMBERSHIP_TERMS[lang], **messages[lang]} for lang in MEMBERSHIP_TERMS}
