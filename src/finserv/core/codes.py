"""National codes and their checks (GB 32100, GB 11643, GB/T 2260, GB/T 4754).

Checks are format + check character only: real data carries credit codes that begin with a
letter (A, G, J, N, Q, Y), resident IDs that begin 81/82/83 or 9, and district codes that no
longer exist, all of which must pass (python-stdnum wrongly rejects them).
"""

from __future__ import annotations

import datetime
import re

# --- GB/T 2260: the 16 Shanghai districts ---------------------------------------------------

SHANGHAI_DISTRICTS: dict[str, str] = {
    "310101": "黄浦区",
    "310104": "徐汇区",
    "310105": "长宁区",
    "310106": "静安区",
    "310107": "普陀区",
    "310109": "虹口区",
    "310110": "杨浦区",
    "310112": "闵行区",
    "310113": "宝山区",
    "310114": "嘉定区",
    "310115": "浦东新区",
    "310116": "金山区",
    "310117": "松江区",
    "310118": "青浦区",
    "310120": "奉贤区",
    "310151": "崇明区",
}

# Codes still found in old IDs and credit codes, mapped to today's district.
HISTORICAL_DISTRICTS: dict[str, str] = {
    "310103": "310101",  # 卢湾区 → 黄浦区 (2011)
    "310108": "310106",  # 闸北区 → 静安区 (2015)
    "310230": "310151",  # 崇明县 → 崇明区 (2016)
}


def current_district(code: str) -> str | None:
    """The current Shanghai district code for a (possibly historical) GB/T 2260 code."""
    code = HISTORICAL_DISTRICTS.get(code, code)
    return code if code in SHANGHAI_DISTRICTS else None


# --- GB/T 4754-2017: sections (门类) and their divisions (大类) -----------------------------

INDUSTRY_SECTIONS: dict[str, tuple[str, tuple[int, int]]] = {
    "A": ("农、林、牧、渔业", (1, 5)),
    "B": ("采矿业", (6, 12)),
    "C": ("制造业", (13, 43)),
    "D": ("电力、热力、燃气及水生产和供应业", (44, 46)),
    "E": ("建筑业", (47, 50)),
    "F": ("批发和零售业", (51, 52)),
    "G": ("交通运输、仓储和邮政业", (53, 60)),
    "H": ("住宿和餐饮业", (61, 62)),
    "I": ("信息传输、软件和信息技术服务业", (63, 65)),
    "J": ("金融业", (66, 69)),
    "K": ("房地产业", (70, 70)),
    "L": ("租赁和商务服务业", (71, 72)),
    "M": ("科学研究和技术服务业", (73, 75)),
    "N": ("水利、环境和公共设施管理业", (76, 79)),
    "O": ("居民服务、修理和其他服务业", (80, 82)),
    "P": ("教育", (83, 83)),
    "Q": ("卫生和社会工作", (84, 85)),
    "R": ("文化、体育和娱乐业", (86, 90)),
    "S": ("公共管理、社会保障和社会组织", (91, 96)),
    "T": ("国际组织", (97, 97)),
}


def industry_section(division: str) -> str | None:
    """The GB/T 4754-2017 section letter for a two-digit division code ('66' → 'J')."""
    if not (len(division) >= 2 and division[:2].isdigit()):
        return None
    number = int(division[:2])
    for letter, (_name, (low, high)) in INDUSTRY_SECTIONS.items():
        if low <= number <= high:
            return letter
    return None


# --- GB 32100-2015: 统一社会信用代码 -------------------------------------------------------

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_USCC_RE = re.compile(r"^[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}$")


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return USCC_CHARSET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """Format and check character of a unified social credit code (GB 32100)."""
    code = (code or "").strip().upper()
    if not _USCC_RE.match(code):
        return False
    return uscc_check_char(code[:17]) == code[17]


# --- GB 11643-1999: 公民身份号码 (also 港澳台 residence permits and 2023 foreigners' IDs) -----

_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")


def id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def is_valid_id_number(number: str) -> bool:
    """Format, birth date and check character of an 18-character ID number (GB 11643).

    The address code is advisory only: codes that no longer exist, 81/82/83 (Hong Kong, Macao,
    Taiwan residence permits) and 9xxxxx (2023 foreigners' permanent residence IDs) all pass.
    """
    number = (number or "").strip().upper()
    if not _ID_RE.match(number):
        return False
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not datetime.date(1900, 1, 1) <= birth <= datetime.date.today():
        return False
    return id_check_char(number[:17]) == number[17]


# --- Policy document numbers (文号), e.g. 沪金规〔2024〕3号 ---------------------------------

_DOC_NUMBER_RE = re.compile(r"^[\u4e00-\u9fffA-Za-z]{1,20}[〔\[［(（](19|20)\d{2}[〕\]］)）]第?\d{1,5}号$")


def normalize_doc_number(value: str) -> str:
    """Normalise the year brackets of a 文号 to the standard 〔 〕."""
    value = (value or "").strip()
    return re.sub(r"[\[［(（]((?:19|20)\d{2})[\]］)）]", r"〔\1〕", value)


def is_valid_doc_number(value: str) -> bool:
    """A 文号: issuer abbreviation, year in brackets, serial number, 号 (GB/T 9704 style)."""
    return bool(_DOC_NUMBER_RE.match((value or "").strip()))
