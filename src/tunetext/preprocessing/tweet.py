"""Social-media text made readable for an encoder pretrained on books and Wikipedia.

URLs and @mentions carry no transferable meaning, so they become placeholders; hashtags, emoji and
emoticons do carry meaning, so they become words the encoder knows; elongations ("sooooo") are cut to
two letters, which keeps the emphasis ("soo") without a run of rare sub-words.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass

from tunetext.errors import ConfigError

URL = "<url>"
USER = "<user>"

EMOTICONS = {
    ":)": "smile", ":-)": "smile", "(:": "smile", ":]": "smile", "=)": "smile",
    ":D": "laugh", ":-D": "laugh", "xD": "laugh", "XD": "laugh",
    ":(": "sad", ":-(": "sad", "):": "sad", ":[": "sad", "=(": "sad",
    ";)": "wink", ";-)": "wink", ":P": "tongue", ":-P": "tongue", ":p": "tongue",
    ":'(": "cry", ":O": "surprise", ":o": "surprise", ":/": "skeptical", ":-/": "skeptical",
    "<3": "heart", "</3": "broken heart",
}
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w+")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_EMOTICON = re.compile(
    r"(?<!\S)(" + "|".join(re.escape(e) for e in sorted(EMOTICONS, key=len, reverse=True)) + r")(?!\S)"
)
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class TweetNormaliser:
    """Each field switches one step on or off; all are on by default."""

    html: bool = True
    urls: bool = True
    mentions: bool = True
    hashtags: bool = True
    emoticons: bool = True
    emoji: bool = True
    elongations: bool = True

    @property
    def placeholders(self) -> list[str]:
        """The tokens this normaliser writes into texts: candidates for the tokenizer's vocabulary."""
        return [token for token, on in ((URL, self.urls), (USER, self.mentions)) if on]

    def __call__(self, text: str) -> str:
        if self.html:
            text = html.unescape(text)
        if self.urls:  # before emoticons: "http://" holds ":/"
            text = _URL.sub(f" {URL} ", text)
        if self.mentions:
            text = _MENTION.sub(f" {USER} ", text)
        if self.hashtags:
            text = _HASHTAG.sub(lambda m: f" {segment_hashtag(m.group(1))} ", text)
        if self.emoticons:
            text = _EMOTICON.sub(lambda m: f" {EMOTICONS[m.group(1)]} ", text)
        if self.emoji:
            text = emoji_to_words(text)
        if self.elongations:
            text = _ELONGATED.sub(r"\1\1", text)
        return _SPACES.sub(" ", text).strip()


def segment_hashtag(tag: str) -> str:
    """"MakeAmericaGreatAgain" → "make america great again"; "imwithher" → "im with her".

    Camel case is split first (the author's own word boundaries); lower-case runs are then segmented by
    unigram frequency (wordsegment's Google n-gram counts).
    """
    return " ".join(word for part in _CAMEL.findall(tag) for word in _segment(part.lower()))


def emoji_to_words(text: str) -> str:
    """Each emoji becomes its CLDR name in words: "😂" → "face with tears of joy"."""
    return social_extra("emoji").replace_emoji(text, replace=lambda chars, data: f" {emoji_name(chars)} ")


def emoji_name(chars: str) -> str:
    return social_extra("emoji").demojize(chars, delimiters=("", "")).replace("_", " ").strip()


@functools.lru_cache(maxsize=4096)
def _segment(word: str) -> tuple[str, ...]:
    if len(word) < 6:  # short tags are words ("#tbt", "#maga") more often than compounds
        return (word,)
    return tuple(_wordsegment().segment(word)) or (word,)


@functools.lru_cache(maxsize=1)
def _wordsegment():
    wordsegment = social_extra("wordsegment")
    wordsegment.load()  # ~1 s: the unigram and bigram tables
    return wordsegment


def social_extra(module: str):
    """Import one of the optional social-media packages, or say how to install them."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"the tweet normaliser needs the {module!r} package: pip install tunetext[social]") from None
