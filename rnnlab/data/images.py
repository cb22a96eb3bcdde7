"""Small generated images of coloured shapes, and their tags.

Each image holds one or two shapes. A shape has a colour (red, green, blue, yellow), a
form (square, circle, triangle) and a column (left, middle, right); two shapes never
share a column. The tags of an image are the set of colours, forms and columns it
shows, written in a fixed order (:data:`TAGS` order), for example
``["red", "blue", "circle", "square", "left", "right"]`` for a red circle on the left
and a blue square on the right. Backgrounds vary in brightness and carry pixel noise.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

COLOURS = {"red": (0.9, 0.15, 0.1), "green": (0.1, 0.75, 0.2), "blue": (0.15, 0.3, 0.95),
           "yellow": (0.95, 0.85, 0.1)}
SHAPES = ("square", "circle", "triangle")
COLUMNS = ("left", "middle", "right")
#: Every tag, in the order in which an image's tags are listed.
TAGS = (*COLOURS, *SHAPES, *COLUMNS)


class TaggedImages(NamedTuple):
    """Generated images and their tags.

    Attributes
    ----------
    images : (N, 3, S, S) float32 RGB in [0, 1], channels first (as torch's conv layers).
    tags : list of N lists of tag strings, in :data:`TAGS` order, without repeats.
    """

    images: np.ndarray
    tags: list[list[str]]


def draw_shape(image: np.ndarray, shape: str, colour: tuple[float, float, float],
               cx: float, cy: float, r: float) -> None:
    """Paint a shape of half-width ``r`` centred at ``(cx, cy)`` into ``image (3, S, S)``."""
    size = image.shape[1]
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    if shape == "square":
        mask = (np.abs(xx - cx) <= r * 0.85) & (np.abs(yy - cy) <= r * 0.85)
    elif shape == "circle":
        mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= r**2
    elif shape == "triangle":  # apex up: the half-width grows linearly towards the base
        mask = (yy >= cy - r) & (yy <= cy + r) & (np.abs(xx - cx) <= (yy - (cy - r)) / 2)
    else:
        raise ValueError(f"shape is {shape!r}; expected one of {SHAPES}")
    image[:, mask] = np.asarray(colour)[:, None]


def make_images(n: int, rng: np.random.Generator, size: int = 24,
                max_objects: int = 2, noise: float = 0.08) -> TaggedImages:
    """``n`` images of ``size x size`` pixels with 1 to ``max_objects`` shapes each."""
    if not 1 <= max_objects <= len(COLUMNS):
        raise ValueError(f"max_objects must be in 1..{len(COLUMNS)}; got {max_objects}")
    if size < 12:
        raise ValueError(f"size must be at least 12; got {size}")
    images = np.empty((n, 3, size, size), dtype=np.float32)
    all_tags = []
    third = size / 3
    for i in range(n):
        image = np.full((3, size, size), rng.uniform(0.0, 0.35))
        count = rng.integers(1, max_objects + 1)
        present = set()
        for column in rng.choice(len(COLUMNS), size=count, replace=False):
            colour = list(COLOURS)[rng.integers(len(COLOURS))]
            shape = SHAPES[rng.integers(len(SHAPES))]
            r = rng.uniform(0.3, 0.45) * third
            cx = (column + 0.5) * third + rng.uniform(-1, 1)
            cy = rng.uniform(r + 1, size - r - 1)
            draw_shape(image, shape, COLOURS[colour], cx, cy, r)
            present |= {colour, shape, COLUMNS[column]}
        images[i] = np.clip(image + noise * rng.standard_normal(image.shape), 0, 1)
        all_tags.append([t for t in TAGS if t in present])
    return TaggedImages(images, all_tags)
