"""A generated, labelled review corpus for demos, tests and examples (no download).

Every review gets a star rating (1 to 5, the label) and is built from templates: sentiment
words of its rating ("awful" for 1 star, "superb" for 5), neutral filler, and in some
reviews a planted pair, a country and its capital mentioned together ("we saw it in paris
france"). Each pair goes with its own two ratings (paris/france with 1 and 3 stars), a
pattern no sentiment word has. Both words of a pair occur in exactly the same reviews, so
training moves them identically, in a direction of their own. After training, sentiment
words cluster by rating and each capital's nearest neighbour is its country.

Why five ratings and not the tutorial's two classes: a binary label gives the embedding
essentially one useful direction, and every word moves along it, so words are only told
apart by their random initialisation. A planted pair needs a direction of its own.
Nothing here is real text.
"""

import numpy as np

# Sentiment words by star rating (index 0 = 1 star).
RATING_WORDS = [
    ["awful", "terrible", "dreadful", "horrible", "unwatchable", "worst"],
    ["boring", "dull", "tedious", "mediocre", "disappointing", "clumsy"],
    ["okay", "average", "passable", "uneven", "watchable", "decent"],
    ["good", "enjoyable", "solid", "charming", "pleasant", "likeable"],
    ["excellent", "wonderful", "brilliant", "superb", "masterful", "amazing"],
]
FILLER_WORDS = [
    "the",
    "movie",
    "film",
    "plot",
    "story",
    "actor",
    "actress",
    "scene",
    "director",
    "script",
    "camera",
    "music",
    "ending",
    "character",
    "dialogue",
    "cast",
    "screen",
    "minutes",
    "sequel",
    "audience",
    "was",
    "is",
    "and",
    "with",
    "a",
    "this",
    "it",
    "of",
    "quite",
    "really",
]
# (country, capital, the two ratings of the reviews that mention them). Each pair has its
# own pair of ratings, unlike any sentiment word, so training gives it its own direction.
PLANTED_PAIRS = [
    ("france", "paris", (0, 2)),
    ("japan", "tokyo", (1, 3)),
    ("italy", "rome", (2, 4)),
    ("egypt", "cairo", (0, 3)),
    ("peru", "lima", (1, 4)),
    ("canada", "ottawa", (0, 4)),
]
_TEMPLATES = [
    "{filler} {sentiment} {filler} {sentiment} {filler}",
    "this {filler} was {sentiment} and {sentiment} {filler} {filler}",
    "{filler} {filler} {sentiment} {filler} {sentiment} {sentiment}",
]
_PLACES = [
    "we saw it in {capital} {country}",
    "shot in {capital} the capital of {country}",
    "a trip from {capital} across {country}",
]


def make_demo_reviews(n_samples=5000, seed=0, pair_rate=0.4):
    """Generate star-rated reviews (see the module docstring); clearly synthetic text.

    Parameters
    ----------
    n_samples : int, default 5000
    seed : int, default 0
        The same seed gives the same corpus.
    pair_rate : float, default 0.4
        Share of reviews that mention a country and its capital.

    Returns
    -------
    TextDataset
        ``texts``, ``labels`` (0 to 4) and ``class_names`` ``['1 star', ..., '5 stars']``.
    """
    from .datasets import TextDataset

    n_samples = int(n_samples)
    if n_samples < 2:
        raise ValueError("n_samples must be >= 2, got %d" % n_samples)
    rng = np.random.default_rng(seed)
    mentions = rng.random(n_samples) < pair_rate
    pairs = rng.integers(len(PLANTED_PAIRS), size=n_samples)
    labels = rng.integers(len(RATING_WORDS), size=n_samples)
    # A review that mentions a pair gets one of that pair's two ratings.
    sides = rng.integers(2, size=n_samples)
    pair_ratings = np.array([ratings for _, _, ratings in PLANTED_PAIRS])
    labels = np.where(mentions, pair_ratings[pairs, sides], labels)
    texts = []
    for i in range(n_samples):
        template = _TEMPLATES[rng.integers(len(_TEMPLATES))]
        words = []
        for part in template.split():
            if part == "{filler}":
                words.append(FILLER_WORDS[rng.integers(len(FILLER_WORDS))])
            elif part == "{sentiment}":
                # A sixth of the sentiment words come from a neighbouring rating, so that
                # ratings overlap and accuracy is not trivially perfect.
                rating = labels[i]
                if rng.random() < 1 / 6:
                    rating = min(len(RATING_WORDS) - 1, max(0, rating + (1 if rng.random() < 0.5 else -1)))
                pool = RATING_WORDS[rating]
                words.append(pool[rng.integers(len(pool))])
            else:
                words.append(part)
        if mentions[i]:
            country, capital, _ = PLANTED_PAIRS[pairs[i]]
            place = _PLACES[rng.integers(len(_PLACES))].format(capital=capital, country=country)
            position = rng.integers(len(words) + 1)
            words[position:position] = place.split()
        texts.append(" ".join(words))
    names = ["1 star"] + ["%d stars" % r for r in range(2, len(RATING_WORDS) + 1)]
    return TextDataset(texts, labels.astype(np.int64), names)


def demo_planted_pairs():
    """The planted ``(country, capital)`` pairs of :func:`make_demo_reviews`."""
    return [(country, capital) for country, capital, _ in PLANTED_PAIRS]
