"""Colour names and removal verbs in an edit instruction, in English and Korean (the UI's two
languages), for the local engine's offline recolour and removal. Korean adjectives take endings ("빨간색으로", "빨갛게"), so Korean words are
stems matched anywhere; English words must stand alone, so "red" never matches "reduce"."""
from __future__ import annotations

import re

RGB = tuple[int, int, int]

COLOURS: dict[str, RGB] = {
    "red": (200, 32, 40), "orange": (240, 128, 32), "yellow": (245, 205, 40), "green": (46, 150, 70),
    "sky blue": (120, 180, 230), "blue": (35, 85, 200), "navy": (25, 40, 95), "purple": (120, 60, 170),
    "pink": (240, 130, 175), "brown": (120, 75, 40), "gold": (205, 165, 60), "beige": (225, 205, 170),
    "black": (25, 25, 28), "white": (245, 245, 242), "grey": (128, 128, 128),
}
ENGLISH: dict[str, str] = {
    "red": "red", "orange": "orange", "yellow": "yellow", "green": "green", "sky blue": "sky blue",
    "light blue": "sky blue", "blue": "blue", "navy": "navy", "purple": "purple", "violet": "purple",
    "pink": "pink", "brown": "brown", "gold": "gold", "golden": "gold", "beige": "beige", "black": "black",
    "white": "white", "grey": "grey", "gray": "grey",
}
KOREAN: dict[str, str] = {
    "빨간": "red", "빨강": "red", "빨갛": "red", "레드": "red", "주황": "orange", "오렌지": "orange",
    "노란": "yellow", "노랑": "yellow", "노랗": "yellow", "초록": "green", "녹색": "green", "그린": "green",
    "하늘색": "sky blue", "파란": "blue", "파랑": "blue", "파랗": "blue", "블루": "blue", "남색": "navy",
    "네이비": "navy", "보라": "purple", "퍼플": "purple", "분홍": "pink", "핑크": "pink", "갈색": "brown",
    "브라운": "brown", "금색": "gold", "골드": "gold", "베이지": "beige", "검은": "black", "검정": "black",
    "까만": "black", "까맣": "black", "블랙": "black", "흰": "white", "하얀": "white", "하얗": "white",
    "화이트": "white", "회색": "grey", "그레이": "grey",
}
# Longest first, so "sky blue" wins over "blue" and "하늘색" is one word.
_PATTERN = re.compile("|".join(
    [rf"\b{re.escape(word)}\b" for word in sorted(ENGLISH, key=len, reverse=True)]
    + [re.escape(stem) for stem in sorted(KOREAN, key=len, reverse=True)]
), re.IGNORECASE)


# Verbs that ask for something to go. "remove the orange cat" names a colour only to say what goes.
_REMOVAL = re.compile("|".join(
    [rf"\b{word}\b" for word in ("remove", "erase", "delete", "get rid of", "take out", "take away",
                                   "clean up", "paint out")]
    + ["지워", "지우", "제거", "없애", "삭제", "빼줘", "빼 줘", "빼주"]
), re.IGNORECASE)


def asks_to_remove(instruction: str) -> bool:
    """Whether the instruction asks for something to be taken away (English or Korean)."""
    return _REMOVAL.search(instruction) is not None


def named_colour(instruction: str) -> RGB | None:
    """The colour the instruction asks for, or None. When several are named the last one wins: "make
    the red part blue" and "빨간 부분을 파란색으로" both end with the colour wanted."""
    found = _PATTERN.findall(instruction)
    if not found:
        return None
    word = found[-1].lower()
    return COLOURS[ENGLISH.get(word) or KOREAN[word]]
