"""Topic search on 100,000 generated topics: the embedded index against SQL ``LIKE``.

What is measured, on one data set (Chinese and English question subjects made from a fixed
vocabulary with a fixed seed, spread over 60 labels of which 6 are exam labels):

- **reindex**: ``studyhub.clients.search.rebuild()`` from the database into a new index generation and
  the swap, as ``studyhub reindex`` runs it: topics per second.
- **search**: the same queries (single Chinese words, two-word Chinese phrases, English words)
  through the embedded backend's ``search()`` (tantivy + jieba) as a student (exam labels
  filtered out) asking for the first page of 10 — segmentation, exact count, BM25 ranking,
  reading the stored subjects and highlighting included — against
  the SQL a search without an index has to run: ``count(*)`` and the newest 10 of
  ``subject LIKE '%word%'`` (every word of the query, the same student filter), on the same
  SQLite database and, with ``--mysql``, on MariaDB. p50/p95 in milliseconds after one warm-up
  pass.

    python bench/search.py [--topics 100000] [--queries 300] [--mysql mysql+pymysql://root@127.0.0.1:3306]

Writes ``bench/results/search.json`` and prints a summary. Exit status 1 if a target is missed:
embedded p95 ≤ 10 ms, ≥ 50× faster than LIKE (p50 against p50), reindex of 100k ≤ 60 s.
It is not a test: it takes a few minutes and runs only when asked.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "search.json"
TARGET_P95_MS = 10.0
TARGET_SPEEDUP = 50.0
TARGET_REINDEX_S = 60.0

ZH_WORDS = (
    "列表 字典 元组 集合 函数 变量 循环 条件 递归 迭代器 生成器 装饰器 闭包 模块 类 对象 继承 多态 封装 接口 "
    "异常 文件 线程 进程 协程 网络 数据库 索引 事务 缓存 队列 栈 链表 二叉树 哈希表 排序 查找 算法 复杂度 指针 "
    "数组 字符串 正则表达式 编码 解码 序列化 并发 锁 死锁 内存 垃圾回收 编译 解释器 虚拟机 操作系统 调度 中断 "
    "文件系统 协议 路由 服务器 客户端 请求 响应 会话 加密 签名 证书 测试 调试 日志 部署 容器 镜像 配置 版本 "
    "分支 合并 推导式 切片 匿名函数 高阶函数 参数 返回值 作用域 命名空间 属性 方法 构造函数 析构函数 运算符 "
    "表达式 语句 注释 缩进 语法 语义 类型 整数 浮点数 布尔值 空值 矩阵 向量 概率 统计 函数图像 导数 积分 极限 "
    "方程 不等式 几何 三角形 圆 面积 体积 速度 加速度 力 能量 电路 电阻 电流 电压 磁场 光 化学 元素 分子 原子 "
    "反应 溶液 细胞 基因 遗传 进化 生态 历史 朝代 地理 气候 诗词 文言文 作文 阅读 语法题 单词 时态 从句 老师 "
    "学生 课堂 作业 考试 复习 预习 笔记 实验 报告 项目 团队 设计 模式 架构 性能 优化 安全 漏洞 权限 用户 角色"
).split()
EN_WORDS = (
    "list dict tuple set function variable loop condition recursion iterator generator decorator closure "
    "module class object inheritance polymorphism encapsulation interface exception file thread process "
    "coroutine network database index transaction cache queue stack linked tree hash sort search algorithm "
    "complexity pointer array string regex encoding decoding serialization concurrency lock deadlock memory "
    "garbage compiler interpreter kernel scheduler interrupt protocol router server client request response "
    "session encryption signature certificate testing debugging logging deployment container image config "
    "version branch merge comprehension slice lambda parameter scope namespace attribute method constructor "
    "operator expression statement comment syntax integer float boolean matrix vector probability statistics "
    "derivative integral limit equation geometry triangle circle area velocity energy circuit current voltage"
).split()
ZH_TEMPLATES = (
    "{a}中的{b}是什么",
    "请简述{a}与{b}的区别",
    "如何使用{a}实现{b}",
    "下列关于{a}的说法正确的是",
    "{a}和{b}在{c}中有什么作用",
    "用{a}解决{b}问题时需要注意什么",
    "判断：{a}一定比{b}更快",
    "请写出{a}的定义，并举例说明{b}",
    "在{a}的场景下，{b}和{c}哪个更合适",
    "{a}的{b}为什么会导致{c}",
)
EN_TEMPLATES = (
    "What is the difference between {a} and {b}?",
    "Explain how a {a} works with a {b}",
    "Which {a} is used for {b} in {c}?",
    "True or false: every {a} has a {b}",
    "Write a {a} that returns the {b} of a {c}",
)
SETTINGS_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "ELASTICSEARCH_URL",
    "CELERY_BROKER_URL",
    "STUDYHUB_VAR_DIR",
    "CACHE_KEY_PREFIX",
    "LOG_FILE",
)


def make_subject(rng: random.Random) -> str:
    if rng.random() < 0.7:
        words = rng.sample(ZH_WORDS, 3)
        text = rng.choice(ZH_TEMPLATES).format(a=words[0], b=words[1], c=words[2])
        if rng.random() < 0.3:  # mixed text, as real question banks have
            text += f"（{rng.choice(EN_WORDS)}）"
        return text
    words = rng.sample(EN_WORDS, 3)
    return rng.choice(EN_TEMPLATES).format(a=words[0], b=words[1], c=words[2])


def make_queries(rng: random.Random, count: int) -> list[str]:
    queries = []
    for i in range(count):
        kind = i % 3
        if kind == 0:
            queries.append(rng.choice(ZH_WORDS))
        elif kind == 1:
            queries.append(rng.choice(ZH_WORDS) + rng.choice(ZH_WORDS))
        else:
            queries.append(rng.choice(EN_WORDS))
    return queries


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(samples, 0.50), 3),
        "p95_ms": round(percentile(samples, 0.95), 3),
        "mean_ms": round(statistics.fmean(samples), 3),
        "max_ms": round(max(samples), 3),
    }


def populate(topics: int, seed: int) -> None:
    """One teacher, 60 labels (6 exam), ``topics`` topics with update times over the last year."""
    from sqlalchemy import insert

    from studyhub.core.db import session_scope
    from studyhub.models.base import utcnow
    from studyhub.models.users import User
    from studyhub.models.work import Label, Topic

    rng = random.Random(seed)
    now = utcnow()
    with session_scope() as session:
        user = User(username="bench-teacher", password="!", email="")
        session.add(user)
        session.flush()
        labels = []
        for i in range(60):
            name = f"期末考试{i}" if i % 10 == 0 else f"{rng.choice(ZH_WORDS)}专题{i}"
            labels.append(Label(name=name, user_id=user.id, create_time=now, update_time=now))
        session.add_all(labels)
        session.flush()
        label_ids = [label.id for label in labels]
        user_id = user.id
    batch = []
    for i in range(topics):
        stamp = now - timedelta(days=365) + timedelta(seconds=i * (365 * 86400 // max(1, topics)))
        batch.append(
            {
                "subject": make_subject(rng),
                "type": i % 5,
                "score": 2.0,
                "description": None,
                "answer": "A",
                "label_id": rng.choice(label_ids),
                "user_id": user_id,
                "create_time": stamp,
                "update_time": stamp,
                "is_delete": False,
            }
        )
        if len(batch) == 5000:
            with session_scope() as session:
                session.execute(insert(Topic), batch)
            batch = []
    if batch:
        with session_scope() as session:
            session.execute(insert(Topic), batch)


def like_search(engine, words: list[str]):
    """What a search without an index runs: count and the newest page of LIKE matches."""
    from sqlalchemy import and_, func, select

    from studyhub.domain.work.visibility import EXAM_MARK
    from studyhub.models.work import Label, Topic

    condition = and_(*[Topic.subject.like(f"%{w}%") for w in words])
    base = (
        select(Topic.id)
        .join(Label, Label.id == Topic.label_id)
        .where(Topic.is_delete.is_(False), Label.is_delete.is_(False), ~Label.name.contains(EXAM_MARK), condition)
    )
    count_stmt = select(func.count()).select_from(base.subquery())
    page_stmt = (
        select(Topic.id, Topic.subject)
        .join(Label, Label.id == Topic.label_id)
        .where(Topic.is_delete.is_(False), Label.is_delete.is_(False), ~Label.name.contains(EXAM_MARK), condition)
        .order_by(Topic.update_time.desc(), Topic.id.desc())
        .limit(10)
    )

    def run():
        with engine.connect() as conn:
            total = conn.execute(count_stmt).scalar()
            rows = conn.execute(page_stmt).all()
        return total, rows

    return run


def time_calls(calls, passes: int = 1) -> list[float]:
    for call in calls:  # warm-up: caches, statement compilation, jieba's dictionary
        call()
    samples = []
    for _ in range(passes):
        for call in calls:
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def query_words(query: str) -> list[str]:
    from studyhub.clients.search import query_terms

    return [w for term in query_terms(query) for w in term.split()]


def bench(args) -> dict:
    from studyhub.clients.search import get_search
    from studyhub.core.db import get_engine
    from studyhub.domain.work.search_sync import rebuild
    from studyhub.migrations import runner as migrate

    rng = random.Random(args.seed)
    started = time.perf_counter()
    migrate.upgrade()
    populate(args.topics, args.seed)
    populate_s = time.perf_counter() - started
    print(f"generated {args.topics} topics in {populate_s:.1f} s", flush=True)

    started = time.perf_counter()
    indexed = rebuild()
    reindex_s = time.perf_counter() - started
    print(f"reindex: {indexed} topics in {reindex_s:.1f} s ({indexed / reindex_s:.0f} topics/s)", flush=True)

    backend = get_search()
    queries = make_queries(rng, args.queries)
    hits = [backend.search(q, include_exam=False, offset=0, limit=10).total for q in queries]
    embedded = time_calls(
        [lambda q=q: backend.search(q, include_exam=False, offset=0, limit=10) for q in queries], passes=3
    )
    teacher = time_calls(
        [lambda q=q: backend.search(q, include_exam=True, offset=0, limit=10) for q in queries], passes=1
    )
    print(f"embedded search: {summary(embedded)}", flush=True)

    like_calls = [like_search(get_engine(), query_words(q)) for q in queries]
    like = time_calls(like_calls, passes=1)
    print(f"SQLite LIKE: {summary(like)}", flush=True)

    result = {
        "reindex": {"topics": indexed, "seconds": round(reindex_s, 2), "topics_per_s": round(indexed / reindex_s)},
        "embedded_search_student": summary(embedded),
        "embedded_search_teacher": summary(teacher),
        "like_sqlite": summary(like),
        "speedup_p50_vs_sqlite_like": round(percentile(like, 0.5) / percentile(embedded, 0.5), 1),
        "speedup_p95_vs_sqlite_like": round(percentile(like, 0.95) / percentile(embedded, 0.95), 1),
        "matches_per_query": {"median": statistics.median(hits), "max": max(hits)},
    }
    if args.mysql:
        result["like_mariadb"] = bench_mysql(args, queries)
        result["speedup_p50_vs_mariadb_like"] = round(
            result["like_mariadb"]["p50_ms"] / result["embedded_search_student"]["p50_ms"], 1
        )
        print(f"MariaDB LIKE: {result['like_mariadb']}", flush=True)
    return result


def bench_mysql(args, queries: list[str]) -> dict:
    """The same rows copied to a scratch MariaDB database, the same LIKE queries."""
    import sqlalchemy
    from sqlalchemy import insert, select

    from studyhub.core.db import get_engine, make_engine
    from studyhub.models import load_all

    name = f"studyhub_bench_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(args.mysql, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        engine = make_engine(f"{args.mysql}/{name}?charset=utf8mb4")
        metadata = load_all()
        tables = [metadata.tables[t] for t in ("groups", "users", "labels", "topics")]
        metadata.create_all(engine, tables=tables)
        source = get_engine()
        with source.connect() as src, engine.begin() as dst:
            for table in tables:
                rows = [dict(r._mapping) for r in src.execute(select(table))]
                for start in range(0, len(rows), 5000):
                    dst.execute(insert(table), rows[start : start + 5000])
        samples = time_calls([like_search(engine, query_words(q)) for q in queries], passes=1)
        engine.dispose()
        return summary(samples)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--topics", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--mysql", help="also time LIKE on MariaDB at this server URL (no database part)")
    parser.add_argument("--no-write", action="store_true", help="don't write bench/results/search.json")
    args = parser.parse_args()

    for key in SETTINGS_ENV:
        os.environ.pop(key, None)
    with tempfile.TemporaryDirectory(prefix="studyhub-bench-search-") as var_dir:
        os.environ["STUDYHUB_VAR_DIR"] = var_dir
        os.environ["LOG_FILE"] = str(Path(var_dir) / "bench.log")
        sys.path.insert(0, str(ROOT))
        result = bench(args)
    speedup = result["speedup_p50_vs_sqlite_like"]
    checks = {
        f"embedded p95 <= {TARGET_P95_MS} ms": result["embedded_search_student"]["p95_ms"] <= TARGET_P95_MS,
        f">= {TARGET_SPEEDUP}x faster than SQLite LIKE (p50)": speedup >= TARGET_SPEEDUP,
        f"reindex of {args.topics} <= {TARGET_REINDEX_S} s": result["reindex"]["seconds"] <= TARGET_REINDEX_S,
    }
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "settings": {"topics": args.topics, "queries": args.queries, "seed": args.seed, "page_size": 10},
        "results": result,
        "targets_met": checks,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
