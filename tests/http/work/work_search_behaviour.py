"""API.md §4 search, as a client sees it: the behaviour every search backend must have.

Not collected on its own (no ``test_`` file name): ``test_work_search_embedded.py`` and
``test_work_search_elasticsearch.py`` import these tests, each with its own ``search_backend``
fixture, so the same tests run against each backend (and on both database stacks).
Topics are arranged in the database and indexed by the index job's body (``index``); the job
system itself is tested in ``test_work_index_jobs.py``.
"""

from datetime import timedelta

from work_fixtures import marked_terms, search, strip_marks

MARK = "<span style='color:red;'>"


def link(url: str) -> tuple[str, dict[str, str]]:
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    return parts.path, dict(parse_qsl(parts.query))


def test_chinese_word_finds_the_subject_containing_it(client, teacher, student, make_label, make_topic, index):
    label = make_label(teacher)
    wanted = make_topic(teacher, label, "Python中的列表推导式是什么")
    other = make_topic(teacher, label, "字典和集合有什么区别")
    index(wanted, other)
    body = search(client.as_user(student), "列表").json()
    assert body["count"] == 1
    [hit] = body["results"]
    assert hit["id"] == wanted.id
    assert strip_marks(hit["subject"]) == "Python中的列表推导式是什么"
    assert marked_terms(hit["subject"]) == ["列表"]


def test_laoshi_finds_yige_laoshi_zhenshuai(client, teacher, make_label, make_topic, index):
    label = make_label(teacher)
    index(make_topic(teacher, label, "一个老师真帅"), make_topic(teacher, label, "一个学生很努力"))
    body = search(client.as_user(teacher), "老师").json()
    assert [strip_marks(r["subject"]) for r in body["results"]] == ["一个老师真帅"]
    assert marked_terms(body["results"][0]["subject"]) == ["老师"]


def test_english_words_match_whatever_their_case(client, teacher, make_label, make_topic, index):
    label = make_label(teacher)
    mixed = make_topic(teacher, label, "Python中的列表推导式是什么")
    english = make_topic(teacher, label, "What is a list comprehension in PYTHON?")
    index(mixed, english, make_topic(teacher, label, "Java 的接口和抽象类"))
    body = search(client.as_user(teacher), "python").json()
    assert {r["id"] for r in body["results"]} == {mixed.id, english.id}
    for result in body["results"]:
        assert [t.lower() for t in marked_terms(result["subject"])] == ["python"]


def test_subject_comes_back_html_escaped_with_marks(client, teacher, make_label, make_topic, index):
    subject = "<script>alert('x')</script> 列表 & \"引号\""
    index(make_topic(teacher, make_label(teacher), subject))
    [hit] = search(client.as_user(teacher), "列表").json()["results"]
    assert "<script>" not in hit["subject"]
    assert hit["subject"].startswith("&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2F;script&gt; ")
    assert hit["subject"].endswith(" &amp; &quot;引号&quot;")
    assert MARK + "列表</span>" in hit["subject"]
    # the other fields are plain data, as in every other answer
    detail = client.as_user(teacher).get(f"/api/work/topics/{hit['id']}").json()
    assert detail["subject"] == subject


def test_searching_for_markup_finds_it_escaped(client, teacher, make_label, make_topic, index):
    index(make_topic(teacher, make_label(teacher), "<script>alert(1)</script>"))
    [hit] = search(client.as_user(teacher), "<script>").json()["results"]
    assert "<script>" not in hit["subject"] and "&lt;" in hit["subject"]
    assert [t.lower() for t in marked_terms(hit["subject"])][0] == "script"


def test_best_match_comes_first(client, teacher, make_label, make_topic, index):
    label = make_label(teacher)
    one = make_topic(teacher, label, "数据库索引的原理", age=timedelta(minutes=1))  # newer, matches one word
    both = make_topic(teacher, label, "数据库事务与索引的隔离级别", age=timedelta(minutes=5))
    index(one, both, make_topic(teacher, label, "操作系统的进程调度"))
    body = search(client.as_user(teacher), "事务 索引").json()
    assert [r["id"] for r in body["results"]] == [both.id, one.id]


def test_student_search_leaves_out_exam_topics_and_answers(client, teacher, student, make_label, make_topic, index):
    exam = make_label(teacher, "期中考试")
    practice = make_label(teacher, "练习")
    hidden = make_topic(teacher, exam, "考试：列表的切片")
    shown = make_topic(teacher, practice, "练习：列表的切片")
    index(hidden, shown)
    body = search(client.as_user(student), "列表").json()
    assert body["count"] == 1 and [r["id"] for r in body["results"]] == [shown.id]
    assert "answer" not in body["results"][0]
    everything = search(client.as_user(student)).json()
    assert everything["count"] == 1 and [r["id"] for r in everything["results"]] == [shown.id]
    teacher_body = search(client.as_user(teacher), "列表").json()
    assert teacher_body["count"] == 2 and all("answer" in r for r in teacher_body["results"])


def test_empty_subject_lists_every_visible_topic_newest_first(client, teacher, make_label, make_topic, index):
    label = make_label(teacher)
    topics = [make_topic(teacher, label, f"第{i}题 <b>", age=timedelta(minutes=10 - i)) for i in range(4)]
    index(*topics)
    for params in ({"subject": ""}, {}):
        body = client.as_user(teacher).get("/api/work/topics/search", params=params).json()
        assert body["count"] == 4
        assert [r["id"] for r in body["results"]] == [t.id for t in reversed(topics)]
        assert body["results"][0]["subject"] == "第3题 &lt;b&gt;"  # still HTML, escaped, nothing marked


def test_search_is_paginated_with_limit_and_offset(client, teacher, make_label, make_topic, index):
    label = make_label(teacher)
    index(*[make_topic(teacher, label, f"关于递归的第{i}道题", age=timedelta(minutes=i)) for i in range(5)])
    api = client.as_user(teacher)
    first = search(api, "递归", limit=2).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["previous"] is None
    assert link(first["next"]) == ("/api/work/topics/search", {"subject": "递归", "limit": "2", "offset": "2"})
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 2
    assert link(second["previous"]) == ("/api/work/topics/search", {"subject": "递归", "limit": "2"})
    last = search(api, "递归", limit=2, offset=4).json()
    assert len(last["results"]) == 1 and last["next"] is None
    seen = [r["id"] for page in (first, second, last) for r in page["results"]]
    assert len(set(seen)) == 5
    assert search(api, "递归", limit=0).status_code == 400


def test_no_match_is_an_empty_page(client, teacher, make_label, make_topic, index):
    index(make_topic(teacher, make_label(teacher), "Python中的列表推导式是什么"))
    for text in ("量子力学", "？？！！", "zzzz"):
        body = search(client.as_user(teacher), text).json()
        assert body == {"count": 0, "next": None, "previous": None, "results": []}


def test_search_needs_a_signed_in_user(client):
    assert search(client, "列表").status_code == 401


def test_changed_and_deleted_topics_follow_their_index_job(client, teacher, make_label, make_topic, index):
    label = make_label(teacher)
    topic = make_topic(teacher, label, "旧的题干：栈")
    index(topic)
    api = client.as_user(teacher)
    api.patch(f"/api/work/topics/{topic.id}", json={"subject": "新的题干：队列"})
    index(topic)
    assert search(api, "栈").json()["count"] == 0
    assert strip_marks(search(api, "队列").json()["results"][0]["subject"]) == "新的题干：队列"
    api.delete(f"/api/work/topics/{topic.id}")
    index(topic)
    assert search(api, "队列").json()["count"] == 0


def test_deleted_topic_never_shows_even_before_its_job_ran(client, teacher, make_label, make_topic, index):
    topic = make_topic(teacher, make_label(teacher), "马上要删除的题目")
    index(topic)
    client.as_user(teacher).delete(f"/api/work/topics/{topic.id}")
    assert search(client.as_user(teacher), "删除").json()["results"] == []


def test_label_renamed_to_an_exam_label_leaves_student_search(client, teacher, student, make_label, make_topic, index):
    from studyhub.domain.work.search_sync import sync_label

    label = make_label(teacher, "第五章")
    index(make_topic(teacher, label, "链表的反转"))
    assert search(client.as_user(student), "链表").json()["count"] == 1
    client.as_user(teacher).patch(f"/api/work/labels/{label.id}", json={"name": "第五章考试"})
    sync_label(label.id)
    index()  # refresh
    assert search(client.as_user(student), "链表").json()["count"] == 0
    assert search(client.as_user(teacher), "链表").json()["results"][0]["label_name"] == "第五章考试"


def test_rebuild_indexes_every_topic_and_search_keeps_answering(client, teacher, make_label, make_topic, index):
    from studyhub.clients.search import get_search
    from studyhub.domain.work.search_sync import rebuild

    label = make_label(teacher)
    indexed = make_topic(teacher, label, "已经在索引里的二叉树")
    index(indexed)
    missing = [make_topic(teacher, label, f"还不在索引里的二叉树{i}") for i in range(5)]
    gone = make_topic(teacher, label, "删掉了的二叉树")
    index(gone)
    client.as_user(teacher).delete(f"/api/work/topics/{gone.id}")
    seen_during = []

    def during(_n):  # search keeps answering from the old index while the new one fills
        seen_during.append(search(client.as_user(teacher), "二叉树").json()["count"])

    assert rebuild(batch_size=2, progress=during) == 6
    get_search().refresh()
    assert seen_during and all(count >= 1 for count in seen_during)
    body = search(client.as_user(teacher), "二叉树").json()
    assert body["count"] == 6
    assert {r["id"] for r in body["results"]} == {indexed.id, *(t.id for t in missing)}
