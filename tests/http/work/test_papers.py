"""Papers (API.md §9): teachers read every paper, the owner or a superuser writes it, items are
1-200 distinct visible topics with a positive one-place score, and a paper with work keeps its items."""

from homework_fixtures import make_paper


def test_a_teacher_builds_a_paper_and_its_total_is_the_sum(client, teacher, bank):
    paper = make_paper(client.as_user(teacher), bank[:3], scores=[2, "1.5", 0.5])
    assert [i["score"] for i in paper["items"]] == [2.0, 1.5, 0.5] and paper["total_score"] == 4.0
    assert paper["items"][0]["topic"]["answer"] == "C" and paper["user"] == teacher.id


def test_an_item_without_a_score_takes_the_topics_score(client, teacher, bank):
    assert make_paper(client.as_user(teacher), bank)["total_score"] == 15.0


def test_students_cannot_read_or_write_papers(client, teacher, student, bank):
    paper = make_paper(client.as_user(teacher), bank)
    api = client.as_user(student)
    assert api.get("/api/work/papers").status_code == 403
    assert api.get(f"/api/work/papers/{paper['id']}").status_code == 403
    assert api.post("/api/work/papers", json={"title": "x", "items": [{"topic": bank[0]}]}).status_code == 403


def test_another_teacher_reads_but_cannot_change_a_paper(client, teacher, make_user, superuser, bank):
    paper = make_paper(client.as_user(teacher), bank)
    other = client.as_user(make_user("teacher"))
    assert other.get(f"/api/work/papers/{paper['id']}").status_code == 200
    assert other.get("/api/work/papers").json()["count"] == 1
    assert other.patch(f"/api/work/papers/{paper['id']}", json={"title": "改"}).status_code == 403
    assert other.delete(f"/api/work/papers/{paper['id']}").status_code == 403
    assert (
        client.as_user(superuser).patch(f"/api/work/papers/{paper['id']}", json={"title": "改"}).json()["title"] == "改"
    )


def test_items_must_be_distinct_existing_topics_with_one_place_scores(client, teacher, bank):
    api = client.as_user(teacher)
    bad = [
        [],
        [{"topic": bank[0]}, {"topic": bank[0]}],
        [{"topic": 999999}],
        [{"topic": bank[0], "score": 0}],
        [{"topic": bank[0], "score": 1.25}],
        [{"topic": bank[0], "score": -1}],
        [{"topic": i} for i in range(1, 202)],
    ]
    for items in bad:
        response = api.post("/api/work/papers", json={"title": "卷", "items": items})
        assert response.status_code == 400, (items, response.text)
        assert "items" in response.json()["errors"] or any(k.startswith("items") for k in response.json()["errors"])


def test_a_paper_students_have_started_keeps_its_items(client, teacher, student, bank, make_class):
    from homework_fixtures import make_assignment

    api = client.as_user(teacher)
    paper = make_paper(api, bank)
    work = make_assignment(api, paper["id"], [make_class(student)])
    client.as_user(student).post(f"/api/work/assignments/{work['id']}/start")
    changed = api.patch(f"/api/work/papers/{paper['id']}", json={"items": [{"topic": bank[0]}]})
    assert changed.status_code == 409 and changed.json()["code"] == "paper_has_submissions"
    assert api.patch(f"/api/work/papers/{paper['id']}", json={"title": "新标题"}).status_code == 200


def test_a_deleted_paper_is_404(client, teacher, bank):
    api = client.as_user(teacher)
    paper = make_paper(api, bank)
    assert api.delete(f"/api/work/papers/{paper['id']}").status_code == 204
    assert api.get(f"/api/work/papers/{paper['id']}").status_code == 404
    assert api.get("/api/work/papers").json()["count"] == 0
