#!/usr/bin/env python3
"""Generates the synthetic VSB portal for the end-to-end poll benchmark (benches/e2e/run.sh).

    gen_site.py OUT_DIR [--sources 200] [--items 20] [--seed 1]

Writes, under OUT_DIR:
  site/col{N}/list.htm      N = 1..sources: a 领导活动-style list page (ul family) with `items` rows
  site/info/{N}/{M}.htm     M = 1..items: the article pages those rows link to
  expected.json             {"sources": …, "items": …, "articles": …} for the runner's checks

The pages are the repository's own fixtures with their variable parts replaced, so they carry the
whole real xncz page furniture (nav menus, 头条新闻 ticker, 热点信息 side box, footer):
  - lists from tests/fixtures/sites/vsb/zqzf/ldhd.htm: the `<ul class="list">` rows are replaced;
    like the fixture, some rows show a cut title with the whole one in `a@title`, some wrap it in
    `<em>`; dates sit in a `<span>` with a leading space or &nbsp;; the pager stays (max_pages = 1,
    so it is not followed).
  - articles from tests/fixtures/sites/vsb/info/1012/10234.htm (the seed article): title, date,
    来源 and the `.v_news_content` paragraphs are replaced; the body is the seed's sentences in a
    per-article order plus a sentence naming the article, so no two bodies are equal and each is
    about as long as the seed (~4 KB of text, ~15 KB of HTML).
Python 3 standard library only; deterministic for a given seed.
"""

import argparse
import datetime
import html
import json
import random
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "sites" / "vsb"
LIST_TEMPLATE = FIXTURES / "zqzf" / "ldhd.htm"
ARTICLE_TEMPLATE = FIXTURES / "info" / "1012" / "10234.htm"

PLACES = ["城中区", "南川街道", "人民街街道", "南滩街道", "仓门街街道", "礼让街街道", "饮马街街道",
          "总寨镇", "区教育局", "区卫健局", "区应急管理局", "区住建局", "区市场监管局", "区民政局"]
ACTS = ["召开", "组织开展", "部署推进", "专题研究", "督导检查", "调研指导", "启动实施", "总结表彰"]
TOPICS = ["安全生产工作", "优化营商环境工作", "义务教育均衡发展工作", "老旧小区改造项目",
          "森林草原防灭火工作", "重点项目建设", "民生实事推进情况", "文明城市创建工作",
          "乡村振兴重点任务", "消费者权益保护宣传活动", "防汛抗旱工作", "社区治理能力提升工作",
          "一季度经济运行分析", "党纪学习教育", "政务服务便民举措", "食品安全专项整治"]
TAILS = ["会议", "推进会", "座谈会", "专题会", "现场会", "动员会", "工作会"]
ORIGINS = ["城中在线", "区政府办公室", "区融媒体中心", "区委宣传部"]


def sentences(text):
    """The seed body's sentences (ending in 。), in order."""
    return [s.strip() + "。" for s in text.split("。") if s.strip()]


def title_for(rng, n, m):
    # The numbers make every title distinct across the whole site (and are not read as a date:
    # "第12-15次" would be December 15th).
    return f"{rng.choice(PLACES)}{rng.choice(ACTS)}{rng.choice(TOPICS)}第{n}期第{m}次{rng.choice(TAILS)}"


def cut(title, keep=18):
    return title[:keep] + "…" if len(title) > keep else title


def list_row(i, n, m, title, day):
    """One `<li>` of the list, in one of the fixture's three shapes."""
    href = f"../info/{n}/{m}.htm"
    space = " " if i % 2 == 0 else "&nbsp;"
    shape = i % 3
    t = html.escape(title, quote=True)
    if shape == 0:  # cut text, whole title in a@title
        link = f'<a href="{href}" target="_blank" title="{t}">{html.escape(cut(title))}</a>'
    elif shape == 1:  # whole title in <em>, with a@title
        link = f'<a href="{href}" target="_blank" title="{t}"><em>{t}</em></a>'
    else:  # whole title in <em>, no a@title
        link = f'<a href="{href}" target="_blank"><em>{t}</em></a>'
    return f'<li id="line_u7_{i}"><span>{space}{day}</span>{link}</li>'


def replace_once(pattern, repl, text, what):
    new, count = re.subn(pattern, lambda _m: repl, text, count=1, flags=re.S)
    if count != 1:
        sys.exit(f"gen_site.py: template changed: {what} not found")
    return new


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--sources", type=int, default=200)
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    list_tpl = LIST_TEMPLATE.read_text(encoding="utf-8")
    art_tpl = ARTICLE_TEMPLATE.read_text(encoding="utf-8")
    body_match = re.search(r'<div class="v_news_content">(.*?)</div></div>', art_tpl, re.S)
    if not body_match:
        sys.exit("gen_site.py: template changed: .v_news_content not found")
    seed_text = " ".join(re.sub(r"<[^>]+>", "", p) for p in re.findall(r"<p[^>]*>(.*?)</p>", body_match.group(1), re.S))
    pool = sentences(seed_text)
    img = re.search(r'<p class="vsbcontent_img".*?</p>\s*<script[^>]*>.*?</script>', body_match.group(1), re.S)
    if not img:
        sys.exit("gen_site.py: template changed: image paragraph not found")
    img = img.group(0)

    rng = random.Random(args.seed)
    site = args.out / "site"
    start = datetime.datetime(2024, 4, 20, 8, 0)
    written = 0
    for n in range(1, args.sources + 1):
        titles = [title_for(rng, n, m) for m in range(1, args.items + 1)]
        # Newest first, one item every ~9 hours, all before the benchmark's "now".
        times = [start - datetime.timedelta(hours=9 * (n + m) + rng.randint(0, 5), minutes=rng.randint(0, 59))
                 for m in range(1, args.items + 1)]
        rows = "\n".join(list_row(i, n, m, titles[m - 1], times[m - 1].strftime("%Y-%m-%d"))
                         for i, m in enumerate(range(1, args.items + 1)))
        page = replace_once(r'<ul class="list">.*?</ul>', f'<ul class="list">\n{rows}\n</ul>', list_tpl, "ul.list")
        page = page.replace("领导活动", f"栏目{n}")
        page = page.replace("共26条", f"共{args.items}条")
        out = site / f"col{n}" / "list.htm"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")

        for m in range(1, args.items + 1):
            title, at = titles[m - 1], times[m - 1]
            order = pool[:]
            rng.shuffle(order)
            paras = [order[i:i + 4] for i in range(0, len(order), 4)]
            body = [f'<p class="vsbcontent_start" style="text-indent: 2em; line-height: 1.75em;">'
                    f'{html.escape(title)}。本文为第{n}栏目第{m}篇,编号{n * 1000 + m}。{"".join(paras[0])}</p>', img]
            body += [f'<p style="text-indent: 2em; line-height: 1.75em;">{"".join(p)}</p>' for p in paras[1:-1]]
            body.append(f'<p class="vsbcontent_end" style="text-indent: 2em; line-height: 1.75em;">{"".join(paras[-1])}</p>')
            t = html.escape(title)
            page = art_tpl
            page = replace_once(r'<div class="v_news_content">.*?</div></div>',
                                '<div class="v_news_content">\n' + "\n".join(body) + "\n</div></div>", page, "body")
            page = replace_once(r"<title>.*?</title>", f"<title>{t}-西宁市城中区人民政府</title>", page, "title")
            page = replace_once(r'<META Name="keywords" Content="[^"]*"',
                                f'<META Name="keywords" Content="西宁市城中区人民政府,栏目{n},{t}"', page, "keywords")
            page = replace_once(r'<h1 class="titlestyle1241">.*?</h1>', f'<h1 class="titlestyle1241">{t}</h1>', page, "h1")
            page = replace_once(r'<span class="timestyle1241">.*?</span>',
                                f'<span class="timestyle1241">{at.strftime("%Y-%m-%d %H:%M")}</span>', page, "timestyle")
            page = replace_once(r'<span class="authorstyle1241">.*?</span>',
                                f'<span class="authorstyle1241">来源:{rng.choice(ORIGINS)}</span>', page, "authorstyle")
            page = page.replace("_jsq_(1012,'/content.jsp',10234,1234)", f"_jsq_({n},'/content.jsp',{m},1234)")
            page = page.replace('_showDynClicks("wbnews", 1234, 10234)', f'_showDynClicks("wbnews", 1234, {m})')
            prev_m, next_m = (m - 1 if m > 1 else args.items), (m + 1 if m < args.items else 1)
            page = replace_once(r'<div class="nextpage">.*?</div>\n</div>',
                                f'<div class="nextpage">\n<div><lable>上一条:</lable><a href="{prev_m}.htm">{html.escape(titles[prev_m - 1])}</a></div>\n'
                                f'<div><lable>下一条:</lable><a href="{next_m}.htm">{html.escape(titles[next_m - 1])}</a></div>\n</div>',
                                page, "nextpage")
            out = site / "info" / str(n) / f"{m}.htm"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(page, encoding="utf-8")
            written += 1

    (args.out / "expected.json").write_text(json.dumps(
        {"sources": args.sources, "items": args.sources * args.items, "articles": written}))
    print(f"gen_site.py: {args.sources} list pages, {written} article pages under {site}")


if __name__ == "__main__":
    main()
