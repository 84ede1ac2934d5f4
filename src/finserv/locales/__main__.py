"""Refresh the translation catalogs: `make i18n` (needs i18ndude, installed by the target).

1. rebuild finserv.pot from the Python code, templates and profiles;
2. sync the zh_CN and en catalogs with it;
3. zh_CN: every message whose msgstr is empty gets its Chinese default text (our defaults are
   the Simplified Chinese wording, so the catalog is complete and editable by translators).
"""

from pathlib import Path

import re
import subprocess
import sys

HERE = Path(__file__).parent
PACKAGE = HERE.parent
DOMAIN = "finserv"
I18NDUDE = sys.argv[1] if len(sys.argv) > 1 else "i18ndude"


def run(*args):
    subprocess.run([I18NDUDE, *args], check=True)


# Messages whose msgid is English (ZCML and profile titles): their Chinese wording.
MANUAL = {
    "finserv": "金融综合服务平台",
    "finserv (uninstall)": "金融综合服务平台（卸载）",
    "finserv demo content": "金融综合服务平台演示内容",
    "Chinese demo content: policies, news, notices.": "中文演示内容：政策、新闻、通知公告。",
    "Removes the finserv browser layer.": "移除 finserv 浏览器层。",
    "The finserv platform: types, workflows, catalog, roles and groups, theme.": "金融综合服务平台：内容类型、工作流、目录索引、角色与用户组、主题。",
    "Sensitive contact data (encrypted)": "敏感联系信息（加密存储）",
    "ID number, mobile and bank account, SM4-encrypted, masked, searchable by exact value": "身份证号、手机号码与银行账号：SM4 加密存储、脱敏显示、可精确检索。",
    "The item can be submitted to a configurable multi-step approval chain": "内容可提交到可配置的多级审批链",
}


def fill_defaults(po: Path):
    text = po.read_text(encoding="utf-8")
    entries = text.split("\n\n")
    out = []
    for entry in entries:
        default = re.search(r'^#\. Default: "(.*)"$', entry, re.M)
        msgid = re.search(r'^msgid "(.*)"$', entry, re.M)
        if msgid and re.search(r'^msgstr ""$', entry, re.M) and msgid.group(1):
            value = MANUAL.get(msgid.group(1)) or (default.group(1) if default else msgid.group(1))
            if re.search(r"[\u4e00-\u9fff]", value):
                entry = re.sub(r'^msgstr ""$', lambda _m: f'msgstr "{value}"', entry, count=1, flags=re.M)
        out.append(entry)
    po.write_text("\n\n".join(out), encoding="utf-8")


def main():
    pot = HERE / f"{DOMAIN}.pot"
    run("rebuild-pot", "--pot", str(pot), "--create", DOMAIN, str(PACKAGE))
    for lang in ("zh_CN", "en"):
        po = HERE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        po.parent.mkdir(parents=True, exist_ok=True)
        if not po.exists():
            po.write_text(
                f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
                f'"Content-Transfer-Encoding: 8bit\\n"\n"Language: {lang}\\n"\n'
                f'"Domain: {DOMAIN}\\n"\n',
                encoding="utf-8",
            )
        run("sync", "--pot", str(pot), str(po))
    fill_defaults(HERE / "zh_CN" / "LC_MESSAGES" / f"{DOMAIN}.po")


if __name__ == "__main__":
    main()
