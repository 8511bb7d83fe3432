"""The tweet normaliser (table-driven), domain tokens, and normalisation recorded in saved models."""

import numpy as np
import pytest
import torch

from tunetext.errors import ConfigError
from tunetext.methods import Method, make_method
from tunetext.preprocessing import TweetNormaliser, add_domain_tokens, domain_tokens, get_normaliser

CASES = [
    # (what, raw, normalised)
    ("url", "read this https://t.co/DGRScBIDnX now", "read this <url> now"),
    ("www url", "see www.example.com/a?b=1", "see <url>"),
    ("mention", "RT @realDonaldTrump: thanks @HillaryClinton!", "RT <user> : thanks <user> !"),
    ("an email is no mention", "mail a@b.com", "mail a@b.com"),
    ("camel-case hashtag", "#MakeAmericaGreatAgain", "make america great again"),
    ("lower-case hashtag", "#imwithher tonight", "im with her tonight"),
    ("short hashtag kept", "#tbt", "tbt"),
    ("hashtag with digits", "#Debate2016", "debate 2016"),
    ("emoticons", "great :) but :( and <3", "great smile but sad and heart"),
    ("no emoticon inside a url", "http://x.co/a :/", "<url> skeptical"),
    ("emoji", "lol 😂", "lol face with tears of joy"),
    ("emoji next to a word", "win🇺🇸", "win United States"),
    ("elongation", "sooooo goooood!!!", "soo good!!!"),
    ("doubles kept", "good coffee", "good coffee"),
    ("html entities", "this &amp; that &lt;3", "this & that heart"),
]


@pytest.mark.parametrize("what, raw, normalised", CASES, ids=[case[0] for case in CASES])
def test_tweet_normaliser(what, raw, normalised):
    assert TweetNormaliser()(raw) == normalised


def test_each_step_can_be_switched_off():
    raw = "@bob #BigNews https://x.co sooo :) 😂"
    assert get_normaliser({"name": "tweet", "mentions": False, "hashtags": False, "urls": False,
                           "elongations": False, "emoticons": False, "emoji": False})(raw) == raw
    assert TweetNormaliser(urls=False).placeholders == ["<user>"]


def test_unknown_normaliser_or_option_says_what_is_valid():
    with pytest.raises(ConfigError, match="unknown normaliser 'twitter'; available: tweet"):
        get_normaliser("twitter")
    with pytest.raises(ConfigError, match="bad options for 'tweet'; valid: .*hashtags"):
        get_normaliser({"name": "tweet", "hashtag": False})


def test_domain_tokens_are_placeholders_and_frequent_emoji():
    texts = ["a 😂", "b 😂", "c 🙈"]
    assert domain_tokens(texts, ["<url>"], min_count=2) == {"<url>": "<url>", "😂": "face with tears of joy"}


def test_added_tokens_start_at_the_mean_of_their_subwords(tiny_bert_path):
    from tunetext.encoders import load_encoder, load_tokenizer

    tokenizer, encoder = load_tokenizer(tiny_bert_path), load_encoder(tiny_bert_path)
    tokens = {"<url>": "<url>", "😂": "face with tears of joy", "good": "good"}
    expected = {t: encoder.get_input_embeddings().weight[tokenizer(d, add_special_tokens=False)["input_ids"]].mean(0)
                for t, d in tokens.items()}
    assert add_domain_tokens(tokenizer, encoder, tokens) == ["<url>", "😂"]  # "good" is a token already
    weight = encoder.get_input_embeddings().weight
    assert weight.shape[0] == len(tokenizer)
    for token in ("<url>", "😂"):
        assert tokenizer.tokenize(f"see {token} now") == ["see", token, "now"]
        torch.testing.assert_close(weight[tokenizer.convert_tokens_to_ids(token)], expected[token])


def test_a_saved_model_normalises_at_predict_time(tiny_bert_path, tmp_path):
    texts = ["@ann loves it :) https://a.co", "@bob hates it :( https://b.co"] * 16
    labels = ["pos", "neg"] * 16
    method = make_method("finetune", model=tiny_bert_path, epochs=1, batch_size=8, precision="fp32",
                         preprocess="tweet", domain_tokens=True).fit(texts, labels)
    loaded = Method.load(method.save(tmp_path / "model"))
    assert loaded.preprocess == "tweet"
    raw = ["@carl thinks it is ok :) http://c.co", "sooooo bad :("]
    normalised = [get_normaliser("tweet")(text) for text in raw]
    np.testing.assert_array_equal(loaded.predict_proba(raw), loaded.predict_proba(normalised))
    np.testing.assert_array_equal(loaded.predict_proba(raw), method.predict_proba(raw))
    assert "<user>" in loaded.tokenizer_.get_vocab()


def test_the_base_class_normalises_train_validation_and_prediction_texts():
    from tunetext.data import LabeledTexts

    seen = {}

    class Recorder(Method):
        def __init__(self, *, preprocess=None):
            self.preprocess = preprocess

        def _fit(self, texts, labels, validation):
            seen["train"], seen["validation"] = texts, validation.texts

        def _predict_proba(self, texts):
            seen["predict"] = texts
            return np.ones((len(texts), 2))

    method = Recorder(preprocess="tweet")
    method.fit(["@a :)", ("#BigDay", "sooo")], ["x", "y"], validation=LabeledTexts(["www.x.org"], ["x"]))
    method.predict(["@b"])
    assert seen == {"train": ["<user> smile", ("big day", "soo")], "validation": ["<url>"], "predict": ["<user>"]}
