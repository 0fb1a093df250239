"""A trainee in a real browser: added by the owner's desk, enrolled over the embedded bus, reads a
lesson, passes its quiz, and writes a practice reply that the checker grades."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from cortesia.embedded import EmbeddedPlatform
from services.tickets.staff import add_staff
from services.training import onboarding, versions
from tests.browser.conftest import ARTIFACTS
from tests.support.probe import wait_until

PASSWORD = "a long trainee passphrase"


def test_a_trainee_reads_a_lesson_passes_its_quiz_and_practises(
    served: tuple[EmbeddedPlatform, str], page: Page
) -> None:
    platform, base_url = served
    with platform.databases["tickets"].transaction() as session:
        staff_id = add_staff(session, "Duda Lima", "duda@example.com", "trainee", PASSWORD).id
        add_staff(session, "Ana Souza", "ana@example.com", "owner", PASSWORD)
    training = platform.databases["training"]

    def enrolled() -> bool:
        with training.transaction() as session:
            try:
                onboarding.progress(session, staff_id)
            except onboarding.NotEnrolled:
                return False
            return True

    wait_until(enrolled, 30, "training to enrol the new trainee from the desk's event")
    with training.transaction() as session:
        answers = [
            q["answer"] for q in versions.current(session, "p-resolve").playbook.content["quiz"]
        ]

    page.goto(base_url + "/training/learn/")
    page.get_by_label("Email").fill("duda@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your onboarding path")).to_be_visible()
    expect(page.get_by_text("Replies held for review: 100%")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "trainee-path.png"), full_page=True)

    page.get_by_role("link", name="Cause, fix, prevention").click()
    expect(page.get_by_role("heading", name="Cause, fix, prevention")).to_be_visible()
    page.get_by_role("button", name="I have read this lesson").click()
    expect(page.get_by_text("✓ I have read this lesson")).to_be_visible()

    quiz = page.locator("#quiz")
    for number, answer in enumerate(answers):
        quiz.locator(f'input[name="q{number}"][value="{answer}"]').check()
    page.get_by_role("button", name="Check my answers").click()
    expect(page.get_by_role("status").filter(has_text="Score: 100%")).to_be_visible()

    page.get_by_label("Your reply").fill("IT IS FIXED NOW!!")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("P-POLITE:shouting").first).to_be_visible()
    expect(page.get_by_text("Returned: see the comment")).to_be_visible()
    page.get_by_label("Your reply").fill(
        "Hi Marta,\n\nThe emails stopped because the password saved in the form plugin was the "
        "old one. I updated it and sent a test that arrived. To prevent it from happening "
        "again, our password-change checklist now includes the plugin.\n\nBest regards,\nDuda"
    )
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Submitted: the owner reviews it next.")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "trainee-lesson.png"), full_page=True)
