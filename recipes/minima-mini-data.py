#!/usr/bin/python3
"""Build the chat training corpus of minima's default model, minima-mini.

Reads only text installed by recipes/setup-data.sh (Debian packages, and the npm packages chinese-poetry and
opencc-js under recipes/.npm) and writes one JSONL file per source into --out, one conversation per line:
    {"text": "<|im_start|>user\\n...<|im_end|>\\n<|im_start|>assistant\\n...<|im_end|>\\n", "source": NAME}
Every answer is copied from the source data; this script only wraps it into questions and sentences.
Licenses of the sources: recipes/LICENSES.md; their notices are copied into --out/NOTICE.txt.

Determinism: the same --seed gives byte-identical files. Inputs are read in sorted order, every random
choice comes from a random.Random seeded with a string (stable across runs, unlike hash()), and no set is
ever iterated (dicts keep insertion order).
"""
import argparse, bz2, collections, glob, gzip, json, random, re, struct, sys, time, unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
POETRY = REPO / "recipes/.npm/node_modules/chinese-poetry/dist"
OPENCC = REPO / "recipes/.npm/node_modules/opencc-js/dist/esm-lib/dict"
SYSTEM = "You are minima-mini, a small helpful assistant."
P_SYSTEM = 0.20  # share of documents that open with the system turn
P_MULTI = 0.17   # share of items with follow-ups that become 2-3 exchanges (~15% of all documents)
# JSONL bytes per source; None keeps everything. Sized so English is ~2/3 of the bytes, Chinese ~1/3,
# and no source is above ~35%. Within a source, tier-0 items (common words, anthology poems) go first.
BUDGET = {"wordnet": 21_000_000, "kjv": 16_500_000, "jargon": None, "devil": None, "elements": None,
          "unihan": 5_500_000, "poetry": 15_000_000}


# ---------------------------------------------------------------- shared helpers

def clean(s):
    """Source text -> safe text: no NUL/control chars, no line separators other than \\n, no markers."""
    s = s.replace("\r", "").replace("\0", "")
    s = re.sub("[\x01-\x08\x0b-\x1f\x7f\x85\u2028\u2029]", " ", s)
    return s.replace("<|", "<").replace("|>", ">")


def chat(rng, pairs):
    """One ChatML conversation: pairs[0], and sometimes one or two of the related follow-ups."""
    turns = [pairs[0]]
    if len(pairs) > 1 and rng.random() < P_MULTI:
        k = min(len(pairs) - 1, rng.choice((1, 2)))
        turns += [pairs[1 + i] for i in sorted(rng.sample(range(len(pairs) - 1), k))]
    out = [f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"] if rng.random() < P_SYSTEM else []
    for q, a in turns:
        out.append(f"<|im_start|>user\n{clean(q)}<|im_end|>\n<|im_start|>assistant\n{clean(a)}<|im_end|>\n")
    return "".join(out)


def first_of(rng, pairs, weights=None):
    """Move a randomly chosen pair to the front (the opening question), keeping the rest as follow-ups."""
    i = rng.choices(range(len(pairs)), weights=weights)[0] if weights else rng.randrange(len(pairs))
    return [pairs[i]] + pairs[:i] + pairs[i + 1:]


def cap(s):
    return s[:1].upper() + s[1:]


def join_and(xs, conj="and"):
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + f" {conj} " + xs[-1]


def reflow(lines):
    return re.sub(r"\s+", " ", " ".join(lines)).strip()


def clip(s, limit):
    """Cut at the last sentence end before limit, so answers stay short but whole."""
    if len(s) <= limit:
        return s
    cut = max(s.rfind(p, 0, limit) for p in (". ", "? ", "! ", "。", "？", "！"))
    return s[:cut + 1].strip() if cut > limit // 3 else ""


def dictd(name, encoding="utf-8"):
    """Entries (headword, text) of a dictd database, in index order. Offsets are dictd's base64 numbers."""
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    num = lambda s: sum(b64.index(ch) * 64 ** k for k, ch in enumerate(reversed(s)))
    raw = gzip.open(f"/usr/share/dictd/{name}.dict.dz").read()
    out = []
    for line in open(f"/usr/share/dictd/{name}.index", encoding="utf-8"):
        word, off, size = line.rstrip("\n").split("\t")
        if not word.startswith("00-database") and not word.startswith("00database"):
            out.append((word, raw[num(off):num(off) + num(size)].decode(encoding)))
    return out


# ---------------------------------------------------------------- WordNet 3.0 (English)

WN = Path("/usr/share/wordnet")
POS_NAME = {"n": "noun", "v": "verb", "a": "adjective", "r": "adverb"}
DEF_Q = ('What does "{w}" mean?|What does {w} mean?|Define {w}.|Define the word "{w}".|What is the meaning of '
         '"{w}"?|What is the definition of {w}?|Can you tell me what "{w}" means?|Explain the word "{w}".|I came '
         'across the word "{w}". What does it mean?|Give me the definition of "{w}".|What\'s the meaning of the '
         'word {w}?|Please define "{w}".|{w}: what does that word mean?|What is meant by "{w}"?').split("|")
SYN_Q = ('What is a synonym of "{w}"?|What is another word for {w}?|Give me a synonym for "{w}".|Which words '
         'mean the same as "{w}"?|What can I say instead of "{w}"?').split("|")
ANT_Q = ('What is the opposite of "{w}"?|What is an antonym of {w}?|Give me a word that means the opposite of '
         '"{w}".').split("|")
EX_Q = 'Use "{w}" in a sentence.|Can you give an example sentence with "{w}"?|How is the word "{w}" used?'.split("|")
REV_Q = 'What word means "{d}"?|Which word describes {d}?|Is there a word for {d}?|What do you call {d}?'.split("|")
POS_Q = ['What part of speech is "{w}"?', 'Is "{w}" a noun, a verb, an adjective or an adverb?']


def wn_load():
    syn = {}     # (pos, offset) -> (words, pointers, definition, examples)
    lemmas = {}  # lemma -> [(pos, [offsets, most frequent sense first], tagged-sense count)]
    for fname, p in (("noun", "n"), ("verb", "v"), ("adj", "a"), ("adv", "r")):
        for line in open(WN / f"data.{fname}", encoding="utf-8"):
            if line.startswith("  "):  # license header
                continue
            head, _, gloss = line.partition(" | ")
            f = head.split()
            n = int(f[3], 16)
            words = [re.sub(r"\((a|p|ip)\)$", "", f[4 + 2 * i]).replace("_", " ") for i in range(n)]
            ptrs = [f[5 + 2 * n + 4 * j:9 + 2 * n + 4 * j] for j in range(int(f[4 + 2 * n]))]
            ptrs = [(sym, off, "a" if pos == "s" else pos, st) for sym, off, pos, st in ptrs]  # s: satellite adj
            examples = [e.strip() for e in re.findall(r'"([^"]+)"', gloss) if len(e) > 8]
            syn[(p, f[0])] = (words, ptrs, gloss.split('"')[0].strip().rstrip(";").strip(), examples)
        for line in open(WN / f"index.{fname}", encoding="utf-8"):
            if not line.startswith("  "):
                f = line.split()
                n, pc = int(f[2]), int(f[3])
                lemmas.setdefault(f[0], []).append((p, f[6 + pc:6 + pc + n], int(f[5 + pc])))
    return syn, lemmas


def wn_sense(rng, w, pos, d):
    if pos == "v":
        d = d if d.startswith("to ") else "to " + d
        return rng.choice([f'To {w} means {d}.', f'As a verb, "{w}" means {d}.', f'The verb "{w}" means {d}.'])
    name = POS_NAME[pos]
    an = "an" if name[0] in "aeiou" else "a"
    return rng.choice([f'"{cap(w)}" is {an} {name} meaning {d}.', f'As {an} {name}, "{w}" means {d}.',
                       f'The {name} "{w}" means {d}.'])


def wordnet(rng):
    syn, lemmas = wn_load()
    for lemma in sorted(lemmas):
        entries = sorted(lemmas[lemma], key=lambda e: -e[2])  # most-used part of speech first (stable sort)
        key = lemma.replace("_", " ")
        senses = [(p, syn[(p, off)]) for p, offs, _ in entries for off in offs]
        w = next((x for x in senses[0][1][0] if x.lower() == key), key)  # keeps "Paris" capitalised
        tagged = sum(e[2] for e in entries)
        pairs = []
        # Definition: up to two senses per part of speech, three in all.
        shown = [(p, s) for p, offs, _ in entries for p, s in [(p, syn[(p, o)]) for o in offs[:2]]][:3]
        if len(senses) == 1 or len(shown) == 1:
            a = wn_sense(rng, w, shown[0][0], shown[0][1][2])
        else:
            parts, last = [f'The word "{w}" has several meanings.'], None
            for p, s in shown:
                d = s[2] if p != "v" or s[2].startswith("to ") else "to " + s[2]
                an = "an" if POS_NAME[p][0] in "aeiou" else "a"
                parts.append(f"As {an} {POS_NAME[p]}, it can mean {d}." if p != last else f"It can also mean {d}.")
                last = p
            a = " ".join(parts)
        ex = [e for e in shown[0][1][3] if key.split()[0].lower() in e.lower()]
        if ex and rng.random() < 0.5:
            a += f' For example: "{ex[0]}".'
        pairs.append((rng.choice(DEF_Q).format(w=w), a))
        p0, (words, ptrs, d0, _) = senses[0]
        others = [x for x in words if x.lower() != key][:4]
        if others:
            q = '", "'.join(others[:-1])
            a = f'a synonym is "{others[0]}".' if len(others) == 1 else f'synonyms include "{q}" and "{others[-1]}".'
            a = f'When "{w}" means {d0}, {a}' if len(senses) > 1 else f'For "{w}", {a}'
            pairs.append((rng.choice(SYN_Q).format(w=w), a))
        ants = [syn[(tp, t)][0][int(st[2:], 16) - 1] for sym, t, tp, st in ptrs
                if sym == "!" and words[int(st[:2], 16) - 1].lower() == key]
        if ants:
            pairs.append((rng.choice(ANT_Q).format(w=w), f'The opposite of "{w}" is "{ants[0]}".'))
        if ex:
            pairs.append((rng.choice(EX_Q).format(w=w), f'Here is an example: "{ex[0]}".'))
        hyp = [(sym, syn[(tp, t)][0][0]) for sym, t, tp, st in ptrs if sym in ("@", "@i") and p0 == "n"]
        if hyp:
            h = hyp[0][1]
            an = "an" if h[0].lower() in "aeiou" else "a"
            if hyp[0][0] == "@i":
                pairs.append((f"What is {w}?", f"{cap(w)} is {an} {h}."))
            else:
                pairs.append((f'What kind of thing is "{w}"?', f'"{cap(w)}" is a kind of {h}.'))
        if len(d0) <= 70 and " " in d0 and p0 != "v":
            a = f'A word that means that is "{w}".' + (f' Another is "{others[0]}".' if others else "")
            pairs.append((rng.choice(REV_Q).format(d=d0), a))
        names = [("an " if POS_NAME[e[0]][0] in "aeiou" else "a ") + POS_NAME[e[0]] for e in entries]
        if len(entries) > 1:
            pairs.append((rng.choice(POS_Q).format(w=w), f'"{cap(w)}" can be used as {join_and(names)}.'))
        weights = [5] + [1] * (len(pairs) - 1)
        for _ in range(2 if tagged else 1):
            yield (0 if tagged else 1), first_of(rng, pairs, weights)


# ---------------------------------------------------------------- King James Bible (English)

BOOKS = ("Ge Genesis|Exo Exodus|Lev Leviticus|Num Numbers|Deu Deuteronomy|Josh Joshua|Jdgs Judges|Ruth Ruth|"
         "1Sm 1 Samuel|2Sm 2 Samuel|1Ki 1 Kings|2Ki 2 Kings|1Chr 1 Chronicles|2Chr 2 Chronicles|Ezra Ezra|"
         "Neh Nehemiah|Est Esther|Job Job|Psa Psalms|Prv Proverbs|Eccl Ecclesiastes|SSol Song of Solomon|"
         "Isa Isaiah|Jer Jeremiah|Lam Lamentations|Eze Ezekiel|Dan Daniel|Hos Hosea|Joel Joel|Amos Amos|"
         "Obad Obadiah|Jonah Jonah|Mic Micah|Nahum Nahum|Hab Habakkuk|Zep Zephaniah|Hag Haggai|Zec Zechariah|"
         "Mal Malachi|Mat Matthew|Mark Mark|Luke Luke|John John|Acts Acts|Rom Romans|1Cor 1 Corinthians|"
         "2Cor 2 Corinthians|Gal Galatians|Eph Ephesians|Phi Philippians|Col Colossians|1Th 1 Thessalonians|"
         "2Th 2 Thessalonians|1Tim 1 Timothy|2Tim 2 Timothy|Titus Titus|Phmn Philemon|Heb Hebrews|Jas James|"
         "1Pet 1 Peter|2Pet 2 Peter|1Jn 1 John|2Jn 2 John|3Jn 3 John|Jude Jude|Rev Revelation")
QUOTE_Q = ("Quote {r}.|What does {r} say?|Recite {r} from the King James Bible.|What is the text of {r}?|Can "
           "you give me {r} (KJV)?|Please quote {b} chapter {c}, verse {v}.|What is written in {r}?|Read {r} to "
           "me.").split("|")
NEXT_Q = ('What comes after: "{t}"?|What is the next verse after "{t}"?|Continue this Bible verse: "{t}"|Which '
          'verse follows {r}, and what does it say?').split("|")
PREV_Q = ['What verse comes before "{t}"?', "What is the verse before {r}?"]
FIND_Q = ('Where in the Bible is this verse found: "{t}"?|Which book, chapter and verse says "{t}"?|Where does '
          '"{t}" come from?').split("|")


def kjv_text():
    """Plain text of /usr/lib/bible.data, the Bible Retrieval System's file: "EC02", an 80-byte description,
    big-endian window size and count, count+1 file offsets, then one LZW stream per 64 KiB window of text
    (Unix compress format, each window decoded on its own). The text is one verse per line: "Ge1:1 In ..."."""
    raw = open("/usr/lib/bible.data", "rb").read()
    if raw[:4] != b"EC02":
        sys.exit("bible.data: unknown format")
    _window_size, wnum = struct.unpack(">II", raw[84:92])
    table = struct.unpack(f">{wnum + 1}I", raw[92:96 + 4 * wnum])
    flags = raw[table[0] - 1]  # third byte of the compress header (1F 9D xx) before window 0
    return b"".join(lzw(raw[table[i]:table[i + 1]], flags & 0x1F, bool(flags & 0x80)) for i in range(wnum))


def lzw(data, maxbits, block):
    """Unix compress (LZW) decoder. Codes come in groups of `bits` bytes (8 codes); when the code width
    grows or a CLEAR code arrives, the rest of the group is skipped: compress's own quirk."""
    prefix, suffix = [0] * (1 << maxbits), list(range(256)) + [0] * ((1 << maxbits) - 256)
    out, pos, bits, free, old, fin = bytearray(), 0, 9, (257 if block else 256), -1, 0
    while pos < len(data):
        chunk, pos, width = data[pos:pos + bits], pos + bits, bits
        val = int.from_bytes(chunk, "little")
        for k in range(len(chunk) * 8 // width):
            c = incode = (val >> (k * width)) & ((1 << width) - 1)
            if old < 0:  # the first code of a window is a literal byte
                out.append(c)
                old = fin = c
                continue
            if c == 256 and block:
                free, bits = 256, 9
                break
            stack = [fin] if c >= free else []  # c >= free: the string being defined right now (KwKwK)
            c = old if c >= free else c
            while c >= 256:
                stack.append(suffix[c])
                c = prefix[c]
            fin = suffix[c]
            out.append(fin)
            out += bytes(reversed(stack))
            if free < (1 << maxbits):
                prefix[free], suffix[free], free = old, fin, free + 1
            old = incode
            if free > (1 << bits) - 1 and bits < maxbits:
                bits += 1
                break
    return bytes(out)


def kjv(rng):
    names = dict(b.split(" ", 1) for b in BOOKS.split("|"))
    verses = []  # (book, chapter, verse, text)
    for line in kjv_text().decode("ascii").splitlines()[1:]:
        m = re.match(r"(\w+?)(\d+):(\d+) (.*)", line)
        verses.append((names[m[1]], int(m[2]), int(m[3]), m[4].strip()))
    count = collections.Counter(v[3] for v in verses)
    ref = lambda v: f"{'Psalm' if v[0] == 'Psalms' else v[0]} {v[1]}:{v[2]}"
    for i, v in enumerate(verses):
        r, f = ref(v), dict(r=ref(v), b=v[0], c=v[1], v=v[2], t=v[3])
        pairs, weights = [(rng.choice(QUOTE_Q).format(**f), rng.choice(
            [f'{r} (KJV): "{v[3]}"', f'{r} reads: "{v[3]}"', f'In the King James Version, {r} says: "{v[3]}"']))], [4]
        if i + 1 < len(verses) and verses[i + 1][0] == v[0]:
            n = verses[i + 1]
            pairs.append((rng.choice(NEXT_Q).format(**f), f'The next verse, {ref(n)}, reads: "{n[3]}"'))
            weights.append(3)
        if i > 0 and verses[i - 1][0] == v[0] and rng.random() < 0.3:
            p = verses[i - 1]
            pairs.append((rng.choice(PREV_Q).format(**f), f'The verse before it is {ref(p)}: "{p[3]}"'))
            weights.append(1)
        if count[v[3]] == 1:  # only verses whose wording occurs once can be located
            pairs.append((rng.choice(FIND_Q).format(**f), f"That verse is {r} in the King James Version."))
            weights.append(2)
        for _ in range(2):
            yield 1, first_of(rng, pairs, weights)
    chapters = {}  # (book, chapter) -> verses, in Bible order
    for v in verses:
        chapters.setdefault((v[0], v[1]), []).append(v)
    books = list(dict.fromkeys(v[0] for v in verses))
    for (b, c), vs in chapters.items():
        pairs = [(f"How many verses are in {b} chapter {c}?", f"{b} chapter {c} has {len(vs)} verses.")]
        body = "\n".join(f"{x[2]} {x[3]}" for x in vs)
        if len(body) <= 1500:
            name = f"Psalm {c}" if b == "Psalms" else f"{b} chapter {c}"
            pairs.insert(0, (rng.choice([f"Recite {name}.", f"Quote all of {name} (KJV)."]),
                             f"{name} in the King James Version:\n{body}"))
        yield 0, pairs
    for i, b in enumerate(books):
        n = max(c for bb, c in chapters if bb == b)
        pairs = [(f"How many chapters are in the book of {b}?", f"The book of {b} has {n} chapters.")]
        if i + 1 < len(books):
            pairs.append((f"Which book of the Bible comes after {b}?", f"The book after {b} is {books[i + 1]}."))
        first = chapters[(b, 1)][0]
        pairs.append((f"What is the first verse of {b}?", f'The first verse of {b} ({ref(first)}) is: "{first[3]}"'))
        for k in range(len(pairs)):
            yield 0, pairs[k:] + pairs[:k]


# ---------------------------------------------------------------- dictd dictionaries (English)

def jargon(rng):
    qs = ['In hacker jargon, what does "{w}" mean?', 'What is "{w}" in hacker slang?',
          "According to the Jargon File, what is {w}?", 'Explain the hacker term "{w}".',
          'What do hackers mean by "{w}"?']
    for word, text in dictd("jargon"):
        lines = text.split("\n")
        paras = re.split(r"\n\s*\n", "\n".join(lines[2:]).strip())
        body = clip(re.sub(r"\{\s*([^}]*?)\s*\}", r"\1", reflow(paras[0].split("\n"))), 700)
        if len(body) < 20:
            continue
        head = lines[0].strip()
        for a in (f'In hacker jargon, "{head}" means: {body}', f'The Jargon File (4.4.7) says about "{head}": {body}'):
            yield 0, [(rng.choice(qs).format(w=head), a)]


def devil(rng):
    qs = ['How does The Devil\'s Dictionary define "{w}"?', "What is Ambrose Bierce's definition of {w}?",
          'Give me the Devil\'s Dictionary entry for "{w}".', 'What did Ambrose Bierce say "{w}" means?',
          "In Bierce's Devil's Dictionary, what is {w}?"]
    for word, text in dictd("devil"):
        m = re.match(r"([A-Z][^,]*), ([a-z. &]+?\.)\s+(.*)", text, re.S)
        if not m:
            continue
        first = []
        for line in m[3].split("\n"):  # first paragraph only: verses and stories that follow are indented
            if not line.strip() or line.startswith("    "):
                break
            first.append(line)
        d = clip(re.sub(r"(?<=[.!?])[^.!?]*:$", "", reflow(first)), 700)  # drop "...like this:" before a verse
        if len(d) < 10:
            continue
        w = m[1].lower()
        for a in (f'In The Devil\'s Dictionary (1911), Ambrose Bierce defines "{w}" as follows. {d}',
                  f'Ambrose Bierce\'s satirical definition of "{w}" reads: {d}'):
            yield 0, [(rng.choice(qs).format(w=w), a)]


def elements(rng):
    seen = {}
    for word, text in dictd("elements", "latin-1"):
        lines = text.strip().split("\n")
        sym, num = re.search(r"Symbol:\s*(\S+)", text), re.search(r"Atomic number:\s*(\d+)", text)
        if not sym or not num or num[1] in seen:
            continue
        seen[num[1]] = 1
        name, sym, num = lines[0].strip(), sym[1], num[1]
        weight = re.search(r"At\w*ic wei\w*:\s*([0-9.]+)", text)
        lines = [l for l in lines[1:] if not re.match(r"(Symbol|At\w*ic (number|wei\w*)):", l)]
        desc = clip(reflow(lines), 500)
        pairs = [(f"What is the chemical symbol for {name}?", f"The chemical symbol for {name} is {sym}."),
                 (f"Which element has the symbol {sym}?", f"The element with the symbol {sym} is {name}."),
                 (f"What is the atomic number of {name}?", f"The atomic number of {name} is {num}."),
                 (f"Which element has atomic number {num}?", f"Element number {num} is {name} ({sym}).")]
        pairs += [(f"What is the atomic weight of {name}?", f"The atomic weight of {name} is about {weight[1]}.")
                  ] if weight else []
        pairs += [(f"Tell me about the element {name}.", f"{cap(name)} ({sym}, atomic number {num}): {desc}")
                  ] if len(desc) > 30 else []
        for k in range(len(pairs)):
            yield 0, pairs[k:] + pairs[:k]


# ---------------------------------------------------------------- Unihan (Chinese characters)

UNIHAN = Path("/usr/share/unicode")
HAN_KEYS = {"kDefinition", "kMandarin", "kHanyuPinlu", "kTGHZ2013", "kSimplifiedVariant", "kTraditionalVariant",
            "kTotalStrokes", "kRSUnicode", "kSemanticVariant", "kZVariant"}
ZH_NUM = "零一两三四五六七八九十"


def unihan_load():
    han = {}  # character -> {field: value}
    for part in ("Readings", "DictionaryLikeData", "Variants", "IRGSources"):
        for line in bz2.open(UNIHAN / f"Unihan_{part}.txt.bz2", "rt", encoding="utf-8"):
            cp, key, val = line.rstrip("\n").split("\t", 2) if line.startswith("U+") else ("", "", "")
            if key in HAN_KEYS:
                han.setdefault(chr(int(cp[2:], 16)), {})[key] = val
    return han


def chars(field):
    return [chr(int(u[2:].split("<")[0], 16)) for u in field.split()]  # "U+8C54<kHKGlyph" -> 豔


def variant_table(han):
    """Non-standard character -> its single standard form (one in the 2013 list, kTGHZ2013), one or two
    steps along Unihan's variant links: 疎 -> 疏, 劒 -> 劍 -> 剑. OpenCC's t2s leaves such variants alone."""
    std = lambda c: "kTGHZ2013" in han.get(c, {})
    links = lambda c: chars(" ".join(han.get(c, {}).get(k, "") for k in
                                     ("kSemanticVariant", "kZVariant", "kSimplifiedVariant")))
    tab = {}
    for c in han:
        if not std(c):
            forms = list(dict.fromkeys(w for v in links(c) for w in ([v] if std(v) else links(v)) if std(w)))
            if len(forms) == 1:
                tab[ord(c)] = forms[0]
    return tab


def opencc_t2s():
    """OpenCC's traditional -> simplified conversion (its t2s: phrases by longest match, then characters),
    from the dictionary tables that the npm package opencc-js ships as JS string literals."""
    def table(name):
        text = (OPENCC / f"{name}.js").read_text(encoding="utf-8")
        return dict(e.split(" ", 1) for e in re.fullmatch(r'export default "(.*)";?\s*', text, re.S)[1].split("|"))

    phrases, single = table("TSPhrases"), table("TSCharacters")
    starts, longest = {p[0] for p in phrases}, max(map(len, phrases))

    def convert(s):
        s, out, i = unicodedata.normalize("NFC", s), [], 0  # NFC: CJK compatibility ideographs -> unified
        while i < len(s):
            n = next((n for n in range(min(longest, len(s) - i), 1, -1) if s[i:i + n] in phrases), 0) \
                if s[i] in starts else 0
            out.append(phrases[s[i:i + n]] if n else single.get(s[i], s[i]))
            i += n or 1
        return "".join(out)
    return convert


def unihan(rng, han):
    radicals = {}  # Kangxi radical number ("85", or "168'" for the simplified form) -> ideograph
    for line in open(UNIHAN / "CJKRadicals.txt", encoding="utf-8"):
        if line[:1].isdigit():
            num, _, ideo = (x.strip() for x in line.split(";"))
            radicals[num] = chr(int(ideo, 16))
    for c in sorted(han):
        f = han[c]
        trad = chars(f.get("kTraditionalVariant", ""))
        d = f.get("kDefinition") or (len(trad) == 1 and han.get(trad[0], {}).get("kDefinition"))
        if "kTGHZ2013" not in f or not d or "kMandarin" not in f:  # kTGHZ2013: the 2013 standard character list
            continue
        d = re.sub(r"U\+[0-9A-F]{4,5}\s*", "", d).strip().rstrip(".;,")
        readings = list(dict.fromkeys(r.split(":")[1] for r in f["kTGHZ2013"].split()))
        py = f["kMandarin"].split()[0]
        py = py if py in readings else readings[0]
        rest = [r for r in readings if r != py]
        zh_read = (f"“{c}”读作 {py}。" if not rest else f"“{c}”是多音字，有{ZH_NUM[len(readings)]}个读音："
                   f"{'、'.join([py] + rest)}，最常用的读音是 {py}。")
        en_read = (f"{c} is pronounced {py} in Mandarin." if not rest else
                   f"{c} is usually pronounced {py} in Mandarin; it can also be read {join_and(rest, 'or')}.")
        pairs = [(rng.choice(["“{c}”是什么意思？", "“{c}”这个字是什么意思？", "汉字“{c}”的意思是什么？",
                              "请解释“{c}”字。", "“{c}”字有什么含义？"]).format(c=c),
                  f"“{c}”读作 {py}，英文释义是：{d}。"),
                 (rng.choice(["What does the Chinese character {c} mean?", "What is the meaning of {c} in Chinese?",
                              "What does {c} mean?", "Explain the Chinese character {c}."]).format(c=c),
                  f"The Chinese character {c} (pinyin: {py}) means {d}."),
                 (rng.choice(["“{c}”怎么读？", "“{c}”的拼音是什么？", "“{c}”字读什么？"]).format(c=c), zh_read),
                 (rng.choice(["How do you pronounce {c}?", "What is the pinyin of {c}?"]).format(c=c), en_read)]
        if "kTotalStrokes" in f:
            pairs.append((f"“{c}”有几画？", f"“{c}”共{f['kTotalStrokes'].split()[0]}画。"))
        rs = f.get("kRSUnicode", "").split()[0].split(".") if "kRSUnicode" in f else []
        if len(rs) == 2 and rs[0] in radicals and radicals[rs[0]] != c:
            pairs.append((f"“{c}”是什么部首？",
                          f"按《康熙字典》的部首，“{c}”属于“{radicals[rs[0]]}”部，部首外{rs[1]}画。"))
        trad = [t for t in trad if t != c]
        if trad and c not in chars(f.get("kTraditionalVariant", "")):
            q = "”和“".join(trad)
            pairs.append((f"“{c}”的繁体字是什么？", f"“{c}”的繁体字是“{q}”。" if len(trad) == 1 else
                          f"“{c}”对应的繁体字有“{q}”。"))
            for t in trad:
                if chars(han.get(t, {}).get("kSimplifiedVariant", "")) == [c]:
                    pairs.append((f"“{t}”的简体字是什么？", f"“{t}”的简体字是“{c}”。"))
        word = re.split(r"[;,]", d)[0].strip()
        if re.fullmatch(r"[a-z][a-z -]{2,20}", word):
            pairs.append((f'Which Chinese character means "{word}"?',
                          f'One Chinese character that means "{word}" is {c} ({py}).'))
        common = "kHanyuPinlu" in f  # frequency counts from a corpus of modern Chinese: everyday characters
        for k in (range(4) if common else rng.sample(range(len(pairs)), 2)):
            yield (0 if common else 1), pairs[k:] + pairs[:k]


# ---------------------------------------------------------------- chinese-poetry (classical Chinese poems)

def poetry(rng, han):
    t2s, variants = opencc_t2s(), variant_table(han)
    s = lambda x: t2s(x).translate(variants).strip()
    odd = lambda text: any("\u4e00" <= c <= "\u9fff" and "kTGHZ2013" not in han.get(c, {}) for c in text)
    load = lambda rel: json.load(open(POETRY / rel, encoding="utf-8"))
    poems, seen = [], {}

    def add(title, author, dyn, paras, anth, kind="诗", src=""):
        body, title, author = "\n".join(s(p) for p in paras if p.strip()), s(title), s(author)
        key = re.sub(r"\W", "", body)
        if (not 10 <= len(body) <= 200 or not title or len(title) > 24 or len(author) > 10 or key in seen
                or title == "句" or title.startswith("失调名") or odd(body + title + author)
                or re.search(r"[^\u4e00-\u9fff，。！？；、：·“”‘’\n]", body + title + author)):
            return
        seen[key] = 1
        clauses = [x for x in re.split(r"[，。！？；、：\n]", body) if x]
        if kind == "词" and "·" not in title:
            title = f"{title}·{clauses[0]}"  # a ci is known by its tune plus its first line
        poems.append(dict(title=title, author=author, dyn=dyn, body=body, anth=anth, kind=kind, src=src,
                          clauses=clauses, lines=body.split("\n")))

    # Anthologies first, so a poem found in both keeps its anthology flag (more training items).
    for group in load("mengxue/tangshisanbaishou.json")["content"]:  # 蘅塘退士's text: 床前明月光
        for p in group["content"]:
            add(p["chapter"], p["author"], "唐", p["paragraphs"], True)
    for p in load("quantangshi/唐诗三百首.json"):
        add(p["title"], p["author"], "唐", p["paragraphs"], True)
    for group in load("mengxue/qianjiashi.json")["content"]:
        for p in group["content"]:
            m = re.match(r"（(.)）(.+)", p["author"])
            parts = [x for x in p["paragraphs"] if isinstance(x, dict)]  # a set of poems: 其一, 其二 ...
            for x in parts if m else []:
                add(f"{p['chapter']}·{x['subchapter']}", m[2], s(m[1]), x["paragraphs"], True)
            if m and not parts:
                add(p["chapter"], m[2], s(m[1]), p["paragraphs"], True)
    for p in load("songci/宋词三百首.json"):
        add(p["rhythmic"], p["author"], "宋", p["paragraphs"], True, "词")
    for p in load("shijing/shijing.json"):
        add(p["title"], "", "先秦", p["content"], True, "诗经", f"《诗经·{p['chapter']}·{p['section']}》")
    famous_song = {p["author"]: 1 for p in poems if p["dyn"] == "宋" and p["kind"] == "诗"}
    for path in sorted(glob.glob(str(POETRY / "quantangshi/poet.tang.*.json"))):
        for p in load(path):
            add(p["title"], p["author"], "唐", p["paragraphs"], False)
    for path in sorted(glob.glob(str(POETRY / "songci/ci.song.*.json"))):
        for p in load(path):
            add(p["rhythmic"], p["author"], "宋", p["paragraphs"], False, "词")
    for path in sorted(glob.glob(str(POETRY / "quantangshi/poet.song.*.json"))):
        for p in load(path):  # Song shi: only poets of the 千家诗 anthology; the rest is too obscure
            if s(p["author"]) in famous_song:
                add(p["title"], p["author"], "宋", p["paragraphs"], False)

    # A question is asked only when its answer is unique in the whole collection.
    title_auth, named, nxt, prv, authors = {}, {}, {}, {}, {}  # authors: name -> {dyn, titles, anth}
    line_count = collections.Counter(line for p in poems for line in p["lines"])
    for p in poems:
        title_auth.setdefault(p["title"], {})[p["author"]] = 1
        for a, b in zip(p["clauses"], p["clauses"][1:]):
            nxt.setdefault(a, {})[b] = 1
            prv.setdefault(b, {})[a] = 1
        if p["author"]:
            a = authors.setdefault(p["author"], {"dyn": {}, "titles": [], "anth": False})
            a["dyn"][p["dyn"]] = 1
            a["titles"].append(p["title"])
            a["anth"] |= p["anth"]

    for p in poems:
        T, A, D, body, cl = p["title"], p["author"], p["dyn"], p["body"], p["clauses"]
        unique_title = len(title_auth[T]) == 1
        poet = "词人" if p["kind"] == "词" else "诗人"
        by = p["src"] or f"{D}代{A}的"  # "唐代李白的《静夜思》" or "《诗经·国风·周南》《关雎》"
        pairs = []
        if p["kind"] == "诗经":
            pairs.append((rng.choice([f"请背诵《诗经》中的《{T}》。", f"《诗经·{T}》的原文是什么？"]),
                          f"《{T}》出自{p['src']}，原文如下：\n{body}"))
        else:  # the first poem of a name (anthologies come first) is "the" one; later ones get their opening
            q = [f"请背诵{A}的《{T}》。", f"{A}的《{T}》怎么背？", f"能给我念一下{D}代{A}的《{T}》吗？"]
            q += [f"请背诵《{T}》。", f"《{T}》的全文是什么？"] if unique_title else []
            q = q if (A, T) not in named else [f"请背诵{A}以“{cl[0]}”开头的那首《{T}》。"]
            named[(A, T)] = 1
            pairs.append((rng.choice(q), rng.choice([f"好的，这是{D}代{A}的《{T}》：\n{body}",
                                                     f"《{T}》\n{D}·{A}\n{body}"])))
        if unique_title:
            if p["kind"] == "诗经":
                pairs.append((f"《{T}》出自哪里？", f"《{T}》出自{p['src']}。"))
            else:
                pairs.append((rng.choice([f"《{T}》的作者是谁？", f"《{T}》是谁写的？", f"谁写了《{T}》？"]),
                              f"《{T}》的作者是{D}代{poet}{A}。"))
        ok = [i for i in range(len(cl) - 1) if len(nxt[cl[i]]) == 1 and len(cl[i]) >= 3]
        if ok:
            i = rng.choice(ok)
            pairs.append((rng.choice(["“{}”的下一句是什么？", "下一句是什么：{}", "请接下一句：{}", "{}，下一句是？"])
                          .format(cl[i]), rng.choice([f"“{cl[i]}”的下一句是“{cl[i + 1]}”。",
                                                      f"下一句是“{cl[i + 1]}”，出自{by}《{T}》。"])))
        ok = [i for i in range(1, len(cl)) if len(prv[cl[i]]) == 1 and len(cl[i]) >= 3]
        if ok:
            i = rng.choice(ok)
            pairs.append((rng.choice(["“{}”的上一句是什么？", "“{}”的前一句是什么？"]).format(cl[i]),
                          f"“{cl[i]}”的上一句是“{cl[i - 1]}”。"))
        lines = [x for x in p["lines"] if line_count[x] == 1 and 8 <= len(x) <= 40]
        if lines:
            x = rng.choice(lines)
            pairs.append((rng.choice([f"“{x}”出自哪首诗？", f"“{x}”出自哪里？", f"“{x}”这句诗的出处是什么？"]),
                          f"这句出自{by}《{T}》。"))
        if not pairs:
            continue
        if p["anth"]:
            for k in range(min(3, len(pairs))):
                yield 0, pairs[k:] + pairs[:k]
        else:
            yield 1, first_of(rng, pairs)

    # Biographies only from 全唐诗's own notes (1705, classical Chinese) that open with the poet's name; notes
    # that cite 《全唐诗》 come from modern supplements, and the Song ones are modern editors' text (LICENSES.md).
    bios = {}
    for a in load("quantangshi/authors.tang.json"):
        name, desc = s(a["name"]), s(a.get("desc") or "").split(" ")[0]  # a second note may follow a space
        desc = re.sub(r"[^。]*[首卷]。$", "", desc)  # "诗六首。": how many poems the anthology holds
        if desc.startswith(name + "，") and "全唐诗" not in desc and "[" not in desc:
            bios.setdefault(name, clip(desc, 160))
    for A, a in authors.items():
        if len(a["dyn"]) != 1:
            continue
        D = next(iter(a["dyn"]))
        titles = list(dict.fromkeys(a["titles"]))[:4]
        pairs = [(rng.choice([f"{A}是哪个朝代的人？", f"{A}是什么朝代的诗人？"]), f"{A}是{D}代的诗人。"),
                 (rng.choice([f"请列举几首{A}的作品。", f"{A}写过哪些作品？"]),
                  f"{A}的作品有{'、'.join(f'《{t}》' for t in titles)}等。")]
        if len(bios.get(A, "")) >= 20:
            pairs.append((rng.choice([f"请介绍一下{A}。", f"{A}是谁？"]), bios[A]))
        yield (0 if a["anth"] else 1), first_of(rng, pairs)


# ---------------------------------------------------------------- driver

SOURCES = ("wordnet", "kjv", "jargon", "devil", "elements", "unihan", "poetry")
INPUTS = {"/usr/share/wordnet/data.noun": "wordnet-base", "/usr/lib/bible.data": "bible-kjv-text",
          "/usr/share/dictd/jargon.index": "dict-jargon", "/usr/share/dictd/devil.index": "dict-devil",
          "/usr/share/dictd/elements.index": "dict-elements", str(UNIHAN / "Unihan_Readings.txt.bz2"): "unicode-data",
          str(POETRY / "quantangshi/唐诗三百首.json"): "chinese-poetry (npm)",
          str(OPENCC / "TSCharacters.js"): "opencc-js (npm)"}
NOTICES = ("wordnet-base", "bible-kjv-text", "dict-jargon", "dict-devil", "dict-elements", "unicode-data")


def main():
    ap = argparse.ArgumentParser(description="Build minima-mini's chat corpus (see recipes/LICENSES.md).")
    ap.add_argument("--out", default=str(REPO / "data/minima-mini/corpus"), help="output directory")
    ap.add_argument("--seed", type=int, default=1, help="seed of every random choice (default 1)")
    args = ap.parse_args()
    if missing := [pkg for path, pkg in INPUTS.items() if not Path(path).exists()]:
        sys.exit(f"missing inputs from {', '.join(missing)}: run `bash recipes/setup-data.sh` first")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    han = unihan_load()
    gens = {"wordnet": wordnet, "kjv": kjv, "jargon": jargon, "devil": devil, "elements": elements,
            "unihan": lambda rng: unihan(rng, han), "poetry": lambda rng: poetry(rng, han)}
    stats = []
    for name in SOURCES:
        t0 = time.time()
        rng = random.Random(f"minima-mini/{args.seed}/{name}")
        docs = [(tier, chat(rng, pairs)) for tier, pairs in gens[name](rng)]
        rng.shuffle(docs)
        docs.sort(key=lambda d: d[0])  # stable: tier 0 first, random order within a tier
        lines, size = [], 0
        for _, text in docs:
            line = json.dumps({"text": text, "source": name}, ensure_ascii=False) + "\n"
            if BUDGET[name] and size + len(line.encode()) > BUDGET[name]:
                break
            lines.append(line)
            size += len(line.encode())
        rng.shuffle(lines)
        tmp = out / f".{name}.jsonl.tmp"
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(lines)
        tmp.replace(out / f"{name}.jsonl")
        multi = sum(l.count("<|im_start|>user") > 1 for l in lines)
        system = sum(l.startswith('{"text": "<|im_start|>system') for l in lines)
        stats.append((name, len(lines), size, len(docs), multi, system, time.time() - t0))
    for stale in [f for f in sorted(out.glob("*.jsonl")) if f.stem not in SOURCES]:  # sources since dropped
        stale.unlink()
    # The WordNet and Unicode licenses ask that their notices travel with derived copies.
    with open(out / "NOTICE.txt", "w", encoding="utf-8") as f:
        f.write("Derived (modified) from the following data; built by recipes/minima-mini-data.py.\n")
        for pkg in NOTICES:
            f.write(f"\n===== {pkg}: /usr/share/doc/{pkg}/copyright\n")
            f.write(open(f"/usr/share/doc/{pkg}/copyright", encoding="utf-8", errors="replace").read())
        f.write("\n===== chinese-poetry (npm): LICENSE\n" + open(POETRY.parent / "LICENSE", encoding="utf-8").read())
    total, zh = sum(s[2] for s in stats), sum(s[2] for s in stats if s[0] in ("unihan", "poetry"))
    print("source         docs       bytes  share  multi system  of items  secs")
    for name, n, size, cand, multi, system, secs in stats:
        print(f"{name:10} {n:8} {size:11} {100 * size / total:5.1f}% {100 * multi / n:5.1f}% "
              f"{100 * system / n:5.1f}% {cand:9} {secs:5.1f}")
    print(f"total      {sum(s[1] for s in stats):8} {total:11}  English {100 - 100 * zh / total:.1f}%, "
          f"Chinese {100 * zh / total:.1f}%  -> {out}")


if __name__ == "__main__":
    main()
