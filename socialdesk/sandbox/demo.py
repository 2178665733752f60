"""The demo page: a small knitwear shop with a lively, multilingual inbox (seeded, deterministic).

``build_demo`` is called by the CLI (``sandbox serve``, ``demo``), tests and benchmarks;
``Activity`` keeps customers writing on a timer for ``sandbox serve --activity``. Generation is
O(threads) so benchmarks can ask for 10,000 conversations and 1,000 posts.

Fixture threads every demo holds (whatever the seed): a hostile customer whose name and text carry
terminal escapes (ESC [2J, OSC 52, C1 0x9b) and bidi overrides (U+202E); a thread ten minutes
from leaving its 24 h window; one at 30 h; one 8 days old; a sticker, a share, image and file
attachments; a blocked customer; bracket text such as ``[URGENT]`` and ``[/b]``. Busy posts
(four comments or more) are ranked, with liked comments, so a sync that trusts ``order`` misses
new comments on them.
"""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta
from typing import Any

from . import hostile as corpus
from .engine import Sandbox, file_attachment, image_attachment

PAGE_NAME = "Nordic Knits"
LANGS = ("en", "pl", "lv", "no", "ru")

NAMES = {
    "en": [
        "Emma Wilson",
        "Oliver Brown",
        "Sophie Taylor",
        "Jack Smith",
        "Grace Hall",
        "Harry Evans",
        "Chloe Davies",
        "Liam Johnson",
        "Amelia Clarke",
        "Noah Wright",
    ],
    "pl": [
        "Zofia Kowalska",
        "Jakub Nowak",
        "Agnieszka Wiśniewska",
        "Piotr Wójcik",
        "Małgorzata Zielińska",
        "Łukasz Kamiński",
        "Katarzyna Lewandowska",
        "Michał Dąbrowski",
    ],
    "lv": [
        "Anna Bērziņa",
        "Jānis Kalniņš",
        "Līga Ozoliņa",
        "Mārtiņš Liepiņš",
        "Ilze Krūmiņa",
        "Kārlis Zariņš",
        "Dace Vītola",
        "Edgars Šmits",
    ],
    "no": [
        "Ingrid Hansen",
        "Ole Johansen",
        "Kari Nilsen",
        "Bjørn Larsen",
        "Solveig Andersen",
        "Håkon Pedersen",
        "Åse Kristiansen",
        "Øyvind Berg",
    ],
    "ru": [
        "Ольга Иванова",
        "Дмитрий Смирнов",
        "Анастасия Кузнецова",
        "Сергей Попов",
        "Екатерина Соколова",
        "Алексей Морозов",
        "Мария Волкова",
        "Иван Лебедев",
    ],
}

INITIALS = {
    "en": "JMARLSTE",
    "pl": "JMAKPWZT",
    "lv": "AJKMLEDI",
    "no": "AEHKLOST",
    "ru": "АВДЕИМНС",
}
"""Middle initials that tell apart demo customers who share a name."""

CUSTOMER = {
    "en": [
        "Hi! Is the merino cardigan still available in size M?",
        "When will my order arrive? It's been a week 🙁",
        "Do you ship to Ireland?",
        "The sweater is lovely, thank you so much! 🧶❤️",
        "Can I return a hat that's too small?",
        "Hello, what's the difference between the wool and the alpaca yarn?",
        "Is there a discount for ordering three?",
        "My parcel says delivered but I can't find it.",
    ],
    "pl": [
        "Dzień dobry, czy sweter jest dostępny w rozmiarze L?",
        "Kiedy wyślecie moje zamówienie? 🙏",
        "Czy mogę zapłacić przy odbiorze?",
        "Czapka jest cudowna, dziękuję! 😍",
        "Jak prać wełnę merino?",
        "Zamówiłam zły kolor, czy mogę wymienić?",
    ],
    "lv": [
        "Labdien! Vai šis džemperis ir pieejams zilā krāsā?",
        "Cik ilgi notiek piegāde uz Rīgu?",
        "Paldies, cimdi ir brīnišķīgi! 🧤",
        "Vai varu atgriezt preci, ja izmērs neder?",
        "Kad būs jaunā kolekcija?",
    ],
    "no": [
        "Hei! Har dere denne genseren i str. S?",
        "Når kommer pakken min? 📦",
        "Tusen takk, lua er helt perfekt!",
        "Kan jeg bytte til en annen farge?",
        "Sender dere til Tromsø?",
    ],
    "ru": [
        "Здравствуйте! Есть ли этот свитер в размере M?",
        "Когда будет доставка в Ригу? 🙂",
        "Спасибо, шарф просто чудесный! ❤️",
        "Можно ли вернуть товар, если не подошёл размер?",
        "Из какой шерсти сделаны варежки?",
    ],
}

PAGE_REPLY = {
    "en": [
        "Thanks for your message! Let me check that for you.",
        "Yes, it's in stock — shall I reserve one?",
        "Your order ships tomorrow 🙂",
    ],
    "pl": ["Dziękujemy za wiadomość! Zaraz sprawdzimy.", "Tak, mamy ten rozmiar 🙂"],
    "lv": ["Paldies par ziņu! Tūlīt pārbaudīsim.", "Jā, tas ir pieejams 🙂"],
    "no": ["Takk for meldingen! Vi sjekker det nå.", "Ja, vi har den på lager 🙂"],
    "ru": ["Спасибо за сообщение! Сейчас проверим.", "Да, есть в наличии 🙂"],
}

COMMENTS = {
    "en": [
        "Gorgeous colours! 😍",
        "How much is this one?",
        "Do you have it in grey?",
        "Ordered mine last week, can't wait!",
        "Is this hand-knitted?",
    ],
    "pl": ["Piękne! Ile kosztuje?", "Czy jest w kolorze czerwonym?", "Super jakość 👍"],
    "lv": ["Cik tas maksā?", "Ļoti skaisti! 😍", "Vai ir arī bērnu izmēri?"],
    "no": ["Så fin! Hva koster den?", "Har dere den i grønn?", "Elsker denne 😍"],
    "ru": ["Какая красота! Сколько стоит?", "А есть в сером цвете?", "Супер качество 👍"],
}

POSTS = [
    "New in: the Fjord merino cardigan 🧶 Hand-finished in Riga.",
    "Winter sale! -20 % on all hats and mittens until Sunday ❄️",
    "Behind the scenes: dyeing our alpaca yarn with birch leaves 🍂",
    "Nowość! Swetry z wełny merino już dostępne 🇵🇱",
    "Jaunums! Rokām adīti cimdi ar latvju rakstiem 🇱🇻",
    "Nyhet! Lusekofter i ekte norsk ull 🇳🇴",
    "Новинка: тёплые шарфы из альпаки 🧣",
    "Customer photo of the week 📸 Thank you, Ingrid!",
]

HOSTILE_NAME = "Mallory \x1b[2J\x1b]52;c;cm0gLXJmIH4K\x07\u202etxt.exe\u202c \x9b31mRoot"
HOSTILE_TEXT = (
    "Hello\x1b[2J\x1b[H\x1b[31m YOUR SCREEN IS MINE \x1b[0m \x1b]52;c;ZWNobyBwd25lZA==\x07 "
    "\x9b1;31mC1 CSI\x9b0m \u202eevil.exe\u202c [bold red]markup[/bold red] =cmd|' /C calc'!A0"
)
STICKER_URL = "https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_759568595_n.png"


def _share() -> dict[str, Any]:
    return {
        "link": "https://nordic-knits.example/products/fjord-cardigan",
        "name": "Fjord merino cardigan",
        "description": "Hand-finished merino, sizes XS–XL",
        "picture": "https://nordic-knits.example/img/fjord.jpg",
    }


def build_demo(
    seed: int = 0,
    threads: int = 60,
    now: datetime | None = None,
    *,
    posts: int | None = None,
    rate_limit: bool = True,
    faults: str | None = None,
    hostile: bool = False,
    instagram: bool = True,
) -> tuple[Sandbox, str, str]:
    """A sandbox holding the demo page; returns ``(sandbox, page_id, page_token)``.

    ``threads`` is the number of Messenger conversations (at least 12, the fixtures); posts
    default to ``max(6, threads // 10)``, each with a few comment threads. With ``now`` the
    sandbox clock is frozen there (deterministic for a given seed); without it the clock is real
    time and the data is laid out relative to the start. ``hostile`` adds the whole hostile
    corpus (``hostile.CORPUS``): customers named with it (one conversation each, on top of
    ``threads``), message, post and comment texts made of it, attachments named with it.
    ``instagram`` links the shop's Instagram account (``nordic.knits``) with its own DM threads
    (about a quarter of ``threads``; one longer than the 20-message horizon; story mentions and
    replies; a hostile customer) and media with comments and replies.
    """
    sb = Sandbox(rate_limit=rate_limit, faults=faults, seed=seed)
    if now is not None:
        sb.set_time(now)
    t0 = sb.now()
    rng = random.Random(f"demo:{seed}")
    page = sb.add_page(PAGE_NAME)
    token = sb.issue_token(page)
    threads = max(12, threads)
    n_posts = posts if posts is not None else max(6, threads // 10)
    st = sb.state

    def ago(**kw: float) -> datetime:
        return t0 - timedelta(**kw)

    def user(lang: str, i: int, *, blocked: bool = False) -> str:
        names = NAMES[lang]
        name = names[i % len(names)]
        if i >= len(names):
            # Another customer with the same name gets a middle initial (never "Emma Wilson 2").
            first, last = name.split(" ", 1)
            letters = INITIALS[lang]
            name = f"{first} {letters[(i // len(names) - 1) % len(letters)]}. {last}"
        return st.add_user(name, None, blocked)

    def dm(uid: str, text: str, at: datetime, *, from_page: bool = False, **kw: Any) -> None:
        st.add_message(page, uid, text, at, from_page=from_page, **kw)

    # -- fixtures ------------------------------------------------------------------------------
    mallory = st.add_user(HOSTILE_NAME, None, False)
    dm(mallory, HOSTILE_TEXT, ago(minutes=42))
    u = user("en", 0)
    dm(u, "Hi, I ordered the grey cardigan (order #1043).", ago(hours=24, minutes=5))
    dm(
        u,
        "[URGENT] my order #1043 hasn't arrived and it's a gift for tomorrow!",
        ago(hours=23, minutes=50),
    )
    u = user("pl", 0)
    dm(u, "Czy mogę jeszcze zmienić adres dostawy? [pilne]", ago(hours=30))
    u = user("no", 0)
    dm(u, "Hei! Jeg venter fortsatt på refusjonen min.", ago(days=8))
    dm(u, "Vi ser på saken 🙂", ago(days=8) + timedelta(hours=1), from_page=True)
    dm(u, "Takk! Gi beskjed.", ago(days=8) + timedelta(hours=2))
    u = user("lv", 0)
    dm(u, "", ago(hours=2), sticker=STICKER_URL)
    u = user("en", 1)
    dm(
        u,
        "Here's the photo of the pulled thread 📷",
        ago(hours=5),
        attachments=[image_attachment("thread_damage.jpg")],
    )
    dm(
        u,
        "",
        ago(hours=5) + timedelta(seconds=20),
        attachments=[image_attachment("label.jpg", 800, 600)],
    )
    u = user("ru", 0)
    dm(
        u,
        "Прикладываю счёт, пожалуйста проверьте 🧾",
        ago(hours=9),
        attachments=[file_attachment("invoice_2026_118.pdf")],
    )
    u = user("en", 2)
    dm(u, "Is this the one you meant?", ago(hours=3), shares=[_share()])
    u = user("pl", 1)
    dm(u, "Czy [b]ten[/b] sweter jest z wełny? [/b]", ago(hours=6))
    dm(u, "Tak, 100 % merino 🙂 [/b] bez obaw.", ago(hours=5), from_page=True)
    u = user("en", 3, blocked=True)
    dm(u, "I want a refund NOW.", ago(hours=4))
    u = user("no", 1)
    dm(u, "🧶🧶🧶 elsker den nye genseren ❤️🇳🇴", ago(minutes=15))
    u = user("lv", 1)
    dm(u, "Vai varat atsūtīt rēķinu?", ago(hours=20))
    dm(u, "Protams, nosūtīsim šodien.", ago(hours=19), from_page=True)

    # -- the rest ------------------------------------------------------------------------------
    fixtures = len(st.pages[page].conversations)
    counters = dict.fromkeys(LANGS, 2)
    for i in range(threads - fixtures):
        lang = LANGS[i % len(LANGS)]
        uid = user(lang, counters[lang])
        counters[lang] += 1
        age_h = rng.choice(
            (rng.uniform(0, 20), rng.uniform(0, 20), rng.uniform(20, 72), rng.uniform(72, 240))
        )
        last = ago(hours=age_h)
        n = rng.randint(1, 6)
        stamps = [last]
        for _ in range(n - 1):
            stamps.append(stamps[-1] - timedelta(minutes=rng.randint(1, 50)))
        for k, at in enumerate(reversed(stamps)):
            from_page = k > 0 and rng.random() < 0.35
            pool = PAGE_REPLY[lang] if from_page else CUSTOMER[lang]
            extra: dict[str, Any] = {}
            if not from_page and rng.random() < 0.04:
                extra["attachments"] = [image_attachment(f"photo_{i}_{k}.jpg")]
            dm(uid, rng.choice(pool), at, from_page=from_page, **extra)
        answered = last + timedelta(minutes=3)
        if rng.random() < 0.3 and answered < t0:
            # answered by the Page in Meta's own inbox, not through socialdesk
            dm(uid, rng.choice(PAGE_REPLY[lang]), answered, from_page=True)

    # -- posts and comments --------------------------------------------------------------------
    commenters: list[tuple[str, str]] = []
    for lang in LANGS:
        for j in range(3):
            commenters.append((lang, st.add_user(NAMES[lang][-1 - j], None, False)))
    for p in range(n_posts):
        post_at = ago(hours=6 + p * 37 % (24 * 30) + p // 20) if p else ago(hours=30)
        pid = st.add_post(page, POSTS[p % len(POSTS)], post_at)
        for c in range(rng.randint(1, 5)):
            lang, cu = commenters[(p * 7 + c) % len(commenters)]
            c_at = post_at + timedelta(minutes=rng.randint(2, 600) + c * 5)
            if c_at > t0:
                c_at = t0 - timedelta(minutes=rng.randint(1, 59))
            text = rng.choice(COMMENTS[lang])
            attachment = None
            if rng.random() < 0.05:
                attachment = {
                    "type": "photo",
                    "url": "https://www.facebook.com/photo.php?fbid=1",
                    "media": {
                        "image": {
                            "src": "https://scontent.xx.fbcdn.net/c.jpg",
                            "width": 720,
                            "height": 720,
                        }
                    },
                }
            cid = st.add_comment(pid, cu, text, c_at, parent_id=None, attachment=attachment)
            roll = rng.random()
            if roll < 0.35:
                r_at = min(c_at + timedelta(minutes=rng.randint(5, 120)), t0)
                st.add_comment(pid, page, rng.choice(PAGE_REPLY[lang]), r_at, parent_id=cid)
                if roll < 0.15:
                    st.add_comment(
                        pid,
                        cu,
                        rng.choice(COMMENTS[lang]),
                        min(r_at + timedelta(minutes=30), t0),
                        parent_id=cid,
                    )
            elif roll < 0.5:
                other_lang, other = commenters[(p * 7 + c + 4) % len(commenters)]
                st.add_comment(
                    pid,
                    other,
                    rng.choice(COMMENTS[other_lang]),
                    min(c_at + timedelta(minutes=45), t0),
                    parent_id=cid,
                )
    first_post = st.pages[page].posts[0]
    old_post = st.add_post(page, "Throwback: our first market stall in Bergen ⛵", ago(days=9))
    old = st.add_comment(
        old_post, commenters[9][1], "Jeg var der! [/b]", ago(days=8, hours=2), parent_id=None
    )
    st.add_comment(old_post, page, "Takk for besøket! 🙂", ago(days=8), parent_id=old)
    st.add_comment(first_post, mallory, HOSTILE_TEXT, ago(minutes=50), parent_id=None)
    st.add_comment(
        first_post,
        commenters[0][1],
        "[URGENT] is the sale still on?? 🧶",
        ago(minutes=20),
        parent_id=None,
    )
    _rank_busy_posts(sb, page, seed)
    if instagram:
        _add_instagram(sb, page, t0, seed, max(6, threads // 4), max(4, n_posts // 2))
    if hostile:
        _add_hostile(sb, page, t0)
    return sb, page, token


IG_USERNAME = "nordic.knits"
IG_MEDIA = [
    "Fjord cardigan, now in moss green 🌿 #knitting #merino",
    "Reel: how we hand-finish every seam ✂️🧶",
    "Nowa kolekcja czapek! 🇵🇱",
    "Jaunie cimdi ar latvju rakstiem 🇱🇻",
    "Lusekofte-sesongen er her ❄️🇳🇴",
    "Шарфы из альпаки снова в наличии 🧣",
]


def _ig_username(name: str, i: int) -> str:
    """An Instagram-shaped username from a display name (ASCII letters, digits, . and _)."""
    ascii_name = name.lower().encode("ascii", "ignore").decode()
    base = "".join(c if c.isalnum() else "." for c in ascii_name).strip(".") or "user"
    return f"{base[:20]}{'_' if i % 2 else '.'}{i}"


def _add_instagram(
    sb: Sandbox, page: str, t0: datetime, seed: int, n_threads: int, n_media: int
) -> None:
    """The shop's linked Instagram account: DM threads, media, comments (its own RNG)."""
    rng = random.Random(f"instagram:{seed}")
    st = sb.state
    ig = st.add_instagram(page, IG_USERNAME, PAGE_NAME, None)
    people: list[tuple[str, str]] = []
    hostile_ig = st.add_user(HOSTILE_NAME, None, False, platform="instagram", username="m4llory")
    st.add_message(page, hostile_ig, HOSTILE_TEXT, t0 - timedelta(minutes=33), from_page=False)
    for i in range(n_threads):
        lang = LANGS[i % len(LANGS)]
        name = NAMES[lang][(i * 3) % len(NAMES[lang])]
        shown = name if i % 3 else ""  # no name until the profile is fetched
        uid = st.add_user(shown, None, False, platform="instagram", username=_ig_username(name, i))
        people.append((lang, uid))
        last = t0 - timedelta(hours=rng.choice((0.2, 1, 3, 9, 20, 30, 80)))
        count = 30 if i == 0 else rng.randint(1, 6)  # one thread past the 20-message horizon
        for k in range(count):
            at = last - timedelta(minutes=7 * (count - 1 - k))
            from_page = k > 0 and rng.random() < 0.3
            text = rng.choice(PAGE_REPLY[lang] if from_page else CUSTOMER[lang])
            st.add_message(page, uid, text, at, from_page=from_page)
    if people:
        lang, uid = people[1 % len(people)]
        story = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17901&signature=sbx"
        st.add_message(
            page,
            uid,
            "",
            t0 - timedelta(minutes=12),
            from_page=False,
            story={"mention": {"link": story, "id": "17901"}},
        )
        st.add_message(
            page,
            uid,
            "😍 where can I buy this?",
            t0 - timedelta(minutes=11),
            from_page=False,
            story={"reply_to": {"link": story, "id": "17901"}},
        )
    for m in range(n_media):
        product = "REELS" if m % 3 == 1 else "FEED"
        media_type = "VIDEO" if product == "REELS" else "IMAGE"
        at = t0 - timedelta(hours=4 + m * 29)
        mid = st.add_ig_media(
            ig, IG_MEDIA[m % len(IG_MEDIA)], at, media_type=media_type, product=product
        )
        for c in range(rng.randint(1, 6)):
            lang, uid = people[(m * 5 + c) % len(people)] if people else ("en", hostile_ig)
            c_at = min(at + timedelta(minutes=rng.randint(3, 900)), t0 - timedelta(minutes=1))
            cid = st.add_ig_comment(
                mid, uid, rng.choice(COMMENTS[lang]), c_at, like_count=rng.choice((0, 0, 1, 4))
            )
            if rng.random() < 0.4:
                r_at = min(c_at + timedelta(minutes=rng.randint(5, 90)), t0)
                st.add_ig_comment(mid, ig, rng.choice(PAGE_REPLY[lang]), r_at, parent_id=cid)
    if n_media:
        first = st.ig_accounts[ig].media[0]
        st.add_ig_comment(first, hostile_ig, HOSTILE_TEXT, t0 - timedelta(minutes=31))


def _add_hostile(sb: Sandbox, page: str, t0: datetime) -> None:
    """Every corpus entry in a name, a DM, a post, a comment and an attachment name."""
    st = sb.state
    users = [st.add_user(name, None, False) for name in corpus.NAMES]
    texts = corpus.CORPUS
    for i, text in enumerate(texts):
        at = t0 - timedelta(minutes=5 + (len(texts) - i))
        st.add_message(page, users[i % len(users)], text, at, from_page=False)
    for i, name in enumerate(corpus.ATTACHMENT_NAMES):
        at = t0 - timedelta(minutes=2, seconds=len(corpus.ATTACHMENT_NAMES) - i)
        attachment = image_attachment(name) if i % 2 else file_attachment(name)
        st.add_message(
            page, users[i % len(users)], "", at, from_page=False, attachments=[attachment]
        )
    posts = [
        st.add_post(page, text, t0 - timedelta(hours=3, minutes=i))
        for i, text in enumerate(texts[: len(texts) // 2])
    ]
    for i, text in enumerate(texts):
        post = posts[i % len(posts)]
        at = t0 - timedelta(minutes=1 + (len(texts) - i) / 10)
        st.add_comment(post, users[i % len(users)], text, at, parent_id=None)


RANKED_FROM = 4
"""Posts with at least this many comments are "Most relevant" (ranked) in the demo."""


def _rank_busy_posts(sb: Sandbox, page: str, seed: int) -> None:
    # A separate RNG keeps every other demo value what it was for a given seed.
    rng = random.Random(f"likes:{seed}")
    st = sb.state
    for pid in st.pages[page].posts:
        post = st.posts[pid]
        if len(post.comments) < RANKED_FROM:
            continue
        post.ranked = True
        for cid in post.comments:
            comment = st.comments[cid]
            if comment.from_id != page:
                comment.likes = rng.choice((0, 0, 0, 1, 2, 3, 5, 8, 13, 40))


IG_BURST_EVERY = 40
"""Every this many Instagram ticks, one burst of :data:`IG_BURST` DMs (and one deleted comment)."""
IG_BURST = 25


class Activity:
    """Customers keep writing: every ``interval_s`` real seconds, a DM or a comment at sb.now()."""

    def __init__(self, sandbox: Sandbox, interval_s: float, *, seed: int = 0) -> None:
        self.sandbox = sandbox
        self.interval_s = interval_s
        self.rng = random.Random(f"activity:{seed}")
        self._stop = threading.Event()
        self._ig_rng = random.Random(f"activity-instagram:{seed}")
        self._ticks = 0
        self._ig_ticks = 0
        self._thread = threading.Thread(target=self._run, name="sandbox-activity", daemon=True)
        self._lang = {name.split()[0]: lang for lang, names in NAMES.items() for name in names}

    def start(self) -> None:
        """Start the timer thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the timer thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.tick()

    def _lang_of(self, name: str) -> str:
        first = name.split(" ", 1)[0]
        return self._lang.get(first, "en")

    def tick(self) -> None:
        """One customer action (also callable directly from tests): a Messenger DM or a Page
        comment, and on every third tick an Instagram DM or comment as well when the page
        has a linked account."""
        sb = self.sandbox
        with sb.lock:
            st = sb.state
            if not st.pages:
                return
            page = next(iter(st.pages.values()))
            self._ticks += 1
            if self._ticks % 3 == 0 and page.id in st.ig_by_page:
                self._instagram_tick(page.id)
            convs = [
                st.conversations[c]
                for c in page.conversations[:400]
                if st.conversations[c].platform == "messenger"
                and not st.users[st.conversations[c].user_id].blocked
                and st.users[st.conversations[c].user_id].name != HOSTILE_NAME
            ]
            if convs and (self.rng.random() < 0.7 or not page.posts):
                conv = self.rng.choice(convs)
                lang = self._lang_of(st.users[conv.user_id].name)
                st.add_message(
                    page.id,
                    conv.user_id,
                    self.rng.choice(CUSTOMER[lang]),
                    sb.now(),
                    from_page=False,
                )
                return
            if not page.posts:
                return
            post_id = self.rng.choice(page.posts[:10])
            post = st.posts[post_id]
            users = [
                u
                for u in st.users.values()
                if u.name != HOSTILE_NAME and not u.blocked and u.platform == "messenger"
            ]
            author = self.rng.choice(users[:200])
            lang = self._lang_of(author.name)
            parents = [c for c in post.comments if st.comments[c].parent_id is None]
            parent = self.rng.choice(parents) if parents and self.rng.random() < 0.4 else None
            st.add_comment(
                post_id, author.id, self.rng.choice(COMMENTS[lang]), sb.now(), parent_id=parent
            )

    def _instagram_tick(self, page_id: str) -> None:
        sb = self.sandbox
        st = sb.state
        account = st.ig_accounts[st.ig_by_page[page_id]]
        rng = self._ig_rng
        people = [
            st.conversations[c].user_id
            for c in st.pages[page_id].conversations
            if st.conversations[c].platform == "instagram"
            and st.users[st.conversations[c].user_id].name != HOSTILE_NAME
        ]
        if not people:
            return
        uid = rng.choice(people[:300])
        lang = LANGS[int(uid[-1]) % len(LANGS)]
        self._ig_ticks += 1
        if self._ig_ticks % IG_BURST_EVERY == IG_BURST_EVERY // 3:
            # A burst of more than 20 messages: a client polling slower than this sees a gap
            # (only the 20 newest have details, INSTAGRAM_API.md §3.4).
            at = sb.now()
            for i in range(IG_BURST):
                text = rng.choice(CUSTOMER[lang])
                st.add_message(page_id, uid, text, at + timedelta(milliseconds=i), from_page=False)
            return
        if self._ig_ticks % IG_BURST_EVERY == 2 * IG_BURST_EVERY // 3:
            # A customer deletes a comment: the media's comments_count goes down.
            live = [
                st.ig_comments[cid]
                for mid in account.media[-6:]
                for cid in st.ig_media[mid].comments
                if st.ig_comments[cid].from_id != account.id and not st.ig_comments[cid].deleted
            ]
            if live:
                rng.choice(live).deleted = True
                return
        if rng.random() < 0.6 or not account.media:
            st.add_message(page_id, uid, rng.choice(CUSTOMER[lang]), sb.now(), from_page=False)
            return
        media = rng.choice(account.media[-6:])
        st.add_ig_comment(media, uid, rng.choice(COMMENTS[lang]), sb.now())
