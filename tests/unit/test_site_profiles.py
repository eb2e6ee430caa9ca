"""Site templates, the pure part: block fingerprints, stripping, the guards, hover-card glue."""

from __future__ import annotations

from crawler.extraction.body import clean_paragraphs
from crawler.extraction.hovercards import collapse_doubled_names
from crawler.extraction.markdown import to_markdown
from storage.site_profiles import block_key, label_key, page_block_keys, strip_story, strip_template_blocks

STORY = [
    "The council voted on Tuesday to close the harbour bridge for repairs until the spring.",
    "Residents on the north bank said the detour would add half an hour to their commute.",
    "The mayor said the work could not wait another winter after engineers found cracks.",
]
READ_ALSO = "Read also: our newsletter, every morning in your inbox."
MISTAKE = "Found a mistake? Select it and press Ctrl+Enter."


def body(*blocks: str) -> str:
    return "\n\n".join(blocks)


def test_block_keys_ignore_case_spacing_and_digits_but_not_words():
    assert block_key("Found a   mistake? Call 555-1234.") == block_key("found a mistake?\ncall 777-9876.")
    assert block_key("Found a mistake? Call us.") != block_key("Found a mistake? Write to us.")
    # A block without a letter says nothing about a template.
    assert block_key("2:1") is None
    assert page_block_keys(body(STORY[0], READ_ALSO, READ_ALSO)) == {
        block_key(STORY[0]), block_key(READ_ALSO), label_key(READ_ALSO)
    }


def test_a_labelled_box_is_one_template_whatever_it_links_to():
    """"Read also: <another story's headline>" differs on every page but for its label."""
    pages = [body(STORY[i], f"Read also: {STORY[(i + 1) % 3][:40]}") for i in range(3)]
    shared = frozenset.intersection(*map(page_block_keys, pages))
    assert shared == {label_key("Read also: anything")}
    assert all(strip_template_blocks(page, shared) == STORY[i] for i, page in enumerate(pages))
    # Prose that holds a colon is no box: too long, or more than a short label before the colon.
    assert label_key(STORY[0] + " The engineer said: " + STORY[1]) is None
    assert label_key("The mayor told the council this week: no more delays.") is None
    assert label_key("あわせて読みたい:第3報:港の工事") == label_key("あわせて読みたい：別の記事")


def test_profiled_blocks_are_stripped_wherever_they_stand():
    profile = frozenset({block_key(READ_ALSO), block_key(MISTAKE)})
    page = body(STORY[0], READ_ALSO, STORY[1], STORY[2], MISTAKE)
    assert strip_template_blocks(page, profile) == body(*STORY)
    assert strip_template_blocks(page, frozenset()) == page


def test_the_markdown_loses_the_blocks_the_text_loses_whatever_their_markup():
    """A box may be a heading, a quoted line or a list item in the Markdown; the text holds it bare."""
    channel, item = "- Follow us on Telegram for more", "- The bridge reopens in May"
    quoted = "The works are overdue, the engineer said."
    # The notice opens and closes a quote: no bare quote break is left at either end.
    paragraphs = [STORY[0], READ_ALSO, STORY[1], MISTAKE, quoted, MISTAKE, channel, item, STORY[2]]
    structure = {
        READ_ALSO: (f"## {READ_ALSO}", "head"),
        quoted: (f"> {quoted}", "quote"),
        MISTAKE: (f"> {MISTAKE}", "quote"),
        channel: (channel, "list"),
        item: (item, "list"),
    }
    markdown = to_markdown(paragraphs, structure)
    profile = frozenset({block_key(READ_ALSO), block_key(MISTAKE), block_key(channel)})
    text, stripped = strip_story(body(*paragraphs), markdown, profile)
    assert text == body(STORY[0], STORY[1], quoted, item, STORY[2])
    assert stripped == body(STORY[0], STORY[1], f"> {quoted}", item, STORY[2])
    # Nothing stripped from the text, nothing from the Markdown: the text's guard decides for both.
    assert strip_story(body(*paragraphs), markdown, frozenset({block_key(STORY[0])}), max_stripped_share=0.01) == (
        body(*paragraphs), markdown
    )
    assert strip_story(body(*paragraphs), None, profile) == (text, None)


def test_a_recurring_dateline_is_not_eaten():
    """Every story of a wire site opens with the same dateline; the paragraphs differ after it."""
    dateline = "WASHINGTON (Reuters) - "
    pages = [body(dateline + STORY[i], STORY[(i + 1) % 3], READ_ALSO) for i in range(3)]
    # Whatever the pages share as whole blocks is the profile: the box, not the dateline.
    shared = frozenset.intersection(*map(page_block_keys, pages))
    assert shared == {block_key(READ_ALSO), label_key(READ_ALSO)}
    for page in pages:
        stripped = strip_template_blocks(page, shared)
        assert stripped.startswith(dateline)
        assert READ_ALSO not in stripped


def test_a_body_is_never_stripped_of_most_of_its_text():
    short = body(STORY[0], READ_ALSO, MISTAKE, "Subscribe to our channel for the news of the day, every day.")
    profile = frozenset(page_block_keys(short) - {block_key(STORY[0])})
    assert strip_template_blocks(short, profile) == short
    assert strip_template_blocks(short, profile, max_stripped_share=0.9) == STORY[0]
    # Nor of all of it, whatever the share allowed.
    assert strip_template_blocks(READ_ALSO, frozenset({block_key(READ_ALSO)}), max_stripped_share=1.0) == READ_ALSO


def test_profiles_work_in_scripts_with_and_without_spaces():
    russian_box = "Подписывайтесь на наш канал в Telegram, чтобы первыми узнавать новости."
    russian = body(
        "Городской совет во вторник проголосовал за ремонт моста через гавань до весны.",
        "Жители северного берега говорят, что объезд добавит полчаса к дороге на работу.",
        russian_box,
    )
    japanese_box = "この記事の誤りを見つけた場合は、該当箇所を選択してお知らせください。"
    japanese = body(
        "市議会は火曜日、港にかかる橋を春まで補修のため閉鎖することを決めた。住民は迂回路に不満を示した。",
        "市長は、技術者がひびを見つけた以上、工事をもう一冬待つことはできないと述べた。",
        japanese_box,
    )
    arabic_box = "اشترك في نشرتنا الإخبارية لتصلك أهم الأخبار كل صباح"
    arabic = body(
        "صوت المجلس البلدي يوم الثلاثاء على إغلاق جسر الميناء من أجل الإصلاحات حتى الربيع المقبل",
        "وقال سكان الضفة الشمالية إن التحويلة ستضيف نصف ساعة إلى رحلتهم اليومية إلى العمل",
        arabic_box,
    )
    profile = frozenset(map(block_key, (russian_box, japanese_box, arabic_box)))
    for page, box in ((russian, russian_box), (japanese, japanese_box), (arabic, arabic_box)):
        stripped = strip_template_blocks(page, profile)
        assert box not in stripped and stripped
    # Casefolding works beyond Latin: the same Cyrillic box in capitals is the same block.
    assert block_key(russian_box.upper()) == block_key(russian_box)
    # Different texts in one script are different blocks.
    assert block_key(japanese_box) != block_key(japanese_box.replace("誤り", "間違い"))


def test_hover_card_names_glued_into_a_sentence_are_written_once():
    assert collapse_doubled_names("Rep. Ilhan OmarIlhan Omar said on Monday.") == "Rep. Ilhan Omar said on Monday."
    assert collapse_doubled_names("Встретились Владимир ПутинВладимир Путин и др.") == "Встретились Владимир Путин и др."
    assert collapse_doubled_names("He met John SmithJohn Smith, then Jane DoeJane Doe.") == "He met John Smith, then Jane Doe."
    # A name written twice on purpose, brands and ordinary camel case stay.
    for kept in ("Ilhan Omar, Ilhan Omar said", "New York New York", "TomTom and McDonald", "Walla Walla"):
        assert collapse_doubled_names(kept) == kept
    # Extraction does it to every paragraph.
    assert clean_paragraphs(["Rep. Ilhan OmarIlhan Omar said the vote would be close."]) == [
        "Rep. Ilhan Omar said the vote would be close."
    ]
