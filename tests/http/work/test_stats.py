"""Statistics of an assignment (API.md §9), computed in the database; private to its owner."""

from homework_fixtures import answers, make_assignment, make_paper


def test_stats_over_submitted_work(client, teacher, make_user, bank, make_class):
    students = [make_user("student") for _ in range(5)]
    api = client.as_user(teacher)
    # a paper of the three first topics: 2 + 3 + 1 = 6 points
    work = make_assignment(api, make_paper(api, bank[:3])["id"], [make_class(*students)])
    given = [["C", "AC", "对"], ["C", "A", "错"], ["B", "", "对"], ["C", "AC", "错"]]  # 6, 3.5, 1, 5
    for student, values in zip(students, given, strict=False):
        response = client.as_user(student).post(
            f"/api/work/assignments/{work['id']}/submit", json={"answers": answers(bank[:3], values)}
        )
        assert response.status_code == 201, response.text
    stats = api.get(f"/api/work/assignments/{work['id']}/stats")
    assert stats.status_code == 200, stats.text
    body = stats.json()
    assert (body["students"], body["submitted"], body["graded"]) == (5, 4, 4)
    assert body["mean"] == 3.9  # 15.5 / 4 = 3.875
    assert body["median"] == 4.3  # (3.5 + 5) / 2 = 4.25, half up
    assert (body["max"], body["min"]) == (6.0, 1.0)
    # ratios 1.0, 0.583, 0.167, 0.833
    assert body["distribution"] == [0, 1, 0, 0, 0, 1, 0, 0, 1, 1]
    items = {i["topic"]: i for i in body["items"]}
    assert [i["topic"] for i in body["items"]] == bank[:3]
    assert items[bank[0]] == {"topic": bank[0], "answered": 4, "correct_rate": 0.75, "mean_score": 1.5}
    assert items[bank[1]]["answered"] == 3 and items[bank[1]]["correct_rate"] == 0.5
    assert items[bank[1]]["mean_score"] == 1.9  # (3 + 1.5 + 0 + 3) / 4 = 1.875, half up


def test_stats_are_404_to_other_teachers_and_students(client, teacher, student, make_user, bank, make_class):
    api = client.as_user(teacher)
    work = make_assignment(api, make_paper(api, bank)["id"], [make_class(student)])
    for user in (student, make_user("teacher")):
        assert client.as_user(user).get(f"/api/work/assignments/{work['id']}/stats").status_code == 404
    empty = api.get(f"/api/work/assignments/{work['id']}/stats").json()
    assert empty["submitted"] == 0 and empty["mean"] is None and empty["distribution"] == [0] * 10


def test_a_class_teacher_is_nobodys_student_in_the_roster_or_the_stats(client, teacher, student, bank, make_class):
    # GIVEN a class whose members are its teacher and one student (teachers are class members too)
    api = client.as_user(teacher)
    work = make_assignment(api, make_paper(api, bank[:3])["id"], [make_class(teacher, student)])
    # WHEN the teacher reads who handed in and the statistics
    roster = api.get(f"/api/work/assignments/{work['id']}/submissions").json()
    stats = api.get(f"/api/work/assignments/{work['id']}/stats").json()
    # THEN only the student is counted
    assert [row["student"] for row in roster["results"]] == [student.id]
    assert roster["count"] == 1 and stats["students"] == 1
