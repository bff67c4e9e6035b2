"""Domain classifiers for the diversity stage: keyword, keyword-seeded TF-IDF (both offline) and LLM.

The paper labels every question with a Mathematics Subject Classification (MSC) style domain using Claude.
Here a classifier is any callable from questions to labels, so an s1eval engine can be plugged in through
LLMClassifier; the built-in keyword table uses MSC-like labels ("11 Number theory", ...), plus the
sciences and puzzles the s1 pool also holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from s1eval.errors import ConfigError

DomainClassifier = Callable[[list[str]], list[str]]

# MSC-like labels -> keywords (lowercase words or short phrases; a plural "s" is added automatically).
DEFAULT_KEYWORDS: dict[str, list[str]] = {
    "03 Mathematical logic": [
        "logic",
        "proposition",
        "truth table",
        "tautology",
        "axiom",
        "knights and knaves",
    ],
    "05 Combinatorics": [
        "combinatorics",
        "permutation",
        "arrangement",
        "how many ways",
        "choose",
        "committee",
        "coloring",
        "pigeonhole",
        "graph",
        "vertex",
        "vertices",
        "edge",
        "tournament",
        "subset",
        "ordered pairs",
        "outfit",
        "combination",
        "ways",
    ],
    "06 Order and lattices": ["lattice", "partial order", "poset"],
    "08 General algebraic systems": ["binary operation", "algebraic system", "operation defined"],
    "11 Number theory": [
        "prime",
        "divisor",
        "divisible",
        "gcd",
        "lcm",
        "modulo",
        "remainder",
        "congruent",
        "integer solution",
        "digit",
        "factorial",
        "diophantine",
        "perfect square",
        "base",
        "integer",
        "perfect cube",
        "greatest common",
        "least common multiple",
        "units digit",
    ],
    "12 Field theory and polynomials": [
        "polynomial",
        "roots",
        "coefficient",
        "quadratic",
        "cubic",
        "vieta",
        "of degree",
        "degree of",
        "field extension",
        "factor",
        "expand",
        "simplify",
        "rationalize",
        "quotient",
    ],
    "13 Commutative algebra": ["ideal", "commutative ring", "noetherian", "module"],
    "14 Algebraic geometry": ["algebraic curve", "variety", "projective", "elliptic curve"],
    "15 Linear and multilinear algebra": [
        "matrix",
        "matrices",
        "determinant",
        "eigenvalue",
        "eigenvector",
        "linear transformation",
        "vector space",
        "rank",
        "trace",
        "pmatrix",
        "bmatrix",
        "vector",
        "projection",
        "dot product",
        "cross product",
    ],
    "16 Associative rings and algebras": ["ring", "associative algebra", "idempotent", "nilpotent"],
    "20 Group theory": [
        "group",
        "subgroup",
        "homomorphism",
        "isomorphism",
        "cyclic group",
        "symmetric group",
        "order of the group",
        "abelian",
    ],
    "26 Real functions": [
        "function",
        "real function",
        "monotonic",
        "inequality",
        "maximum value",
        "minimum value",
        "real numbers",
        "solve for",
        "equation",
        "log",
        "logarithm",
        "exponent",
        "absolute value",
        "f x",
        "real solution",
    ],
    "28 Measure and integration": ["measure", "lebesgue", "measurable", "almost everywhere"],
    "30 Complex functions": ["complex number", "analytic", "holomorphic", "residue", "contour", "imaginary"],
    "33 Special functions": [
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "arcsin",
        "arccos",
        "arctan",
        "trigonometric",
        "radian",
    ],
    "34 Ordinary differential equations": ["differential equation", "ode", "initial value problem", "dy dx"],
    "35 Partial differential equations": [
        "partial differential",
        "heat equation",
        "wave equation",
        "laplace",
    ],
    "37 Dynamical systems": ["dynamical system", "iteration", "fixed point", "orbit", "chaos"],
    "39 Difference equations": ["recurrence", "recursive", "sequence defined", "difference equation"],
    "40 Sequences and series": [
        "sequence",
        "series",
        "converge",
        "arithmetic progression",
        "geometric series",
        "sum of the first",
        "sum",
        "arithmetic sequence",
        "geometric sequence",
        "infinite",
    ],
    "41 Approximation": ["approximation", "approximate", "interpolation", "taylor"],
    "42 Harmonic analysis": ["fourier", "harmonic"],
    "46 Functional analysis": ["banach", "hilbert space", "normed space", "operator", "functional"],
    "49 Calculus of variations": ["calculus of variations", "optimal control", "minimize the functional"],
    "51 Geometry": [
        "triangle",
        "circle",
        "angle",
        "polygon",
        "square",
        "rectangle",
        "perpendicular",
        "parallel",
        "tangent",
        "radius",
        "diameter",
        "area",
        "perimeter",
        "hexagon",
        "inscribed",
        "circumcircle",
        "trapezoid",
        "quadrilateral",
        "midpoint",
        "chord",
        "coordinate",
        "distance",
        "parallelogram",
        "slope",
        "polar coordinates",
        "rhombus",
        "sphere",
        "cylinder",
        "cone",
        "volume",
        "prism",
        "cube",
        "pentagon",
        "octagon",
        "degrees",
    ],
    "52 Convex and discrete geometry": ["convex", "polytope", "lattice point", "tiling", "packing"],
    "53 Differential geometry": ["curvature", "manifold", "geodesic", "surface"],
    "54 General topology": ["topology", "topological", "compact", "connected", "open set", "closed set"],
    "60 Probability theory": [
        "probability",
        "random",
        "expected value",
        "dice",
        "die",
        "coin",
        "uniformly at",
        "independent",
        "distribution",
    ],
    "62 Statistics": [
        "statistic",
        "mean",
        "median",
        "variance",
        "standard deviation",
        "sample",
        "estimator",
        "hypothesis test",
        "regression",
    ],
    "65 Numerical analysis": ["numerical", "newton's method", "iteration method", "error bound"],
    "68 Computer science": [
        "algorithm",
        "program",
        "code",
        "input",
        "output",
        "array",
        "string",
        "complexity",
        "test case",
        "python",
        "function that",
        "query",
    ],
    "70 Mechanics of particles": [
        "velocity",
        "acceleration",
        "force",
        "mass",
        "friction",
        "momentum",
        "projectile",
        "spring",
        "pendulum",
        "kinetic energy",
        "torque",
    ],
    "76 Fluid mechanics": ["fluid", "viscosity", "flow", "pressure", "buoyancy", "bernoulli"],
    # MSC 78 is one class, "Optics, electromagnetic theory" (s1's data/msc.json); one label, not two.
    "78 Optics, electromagnetic theory": [
        "lens",
        "refraction",
        "reflection",
        "wavelength",
        "optical",
        "diffraction",
        "light",
        "electric field",
        "magnetic field",
        "charge",
        "current",
        "voltage",
        "circuit",
        "capacitor",
        "resistor",
        "inductor",
        "electron",
    ],
    "80 Classical thermodynamics": [
        "temperature",
        "heat",
        "entropy",
        "thermodynamic",
        "gas",
        "kelvin",
        "adiabatic",
        "isothermal",
    ],
    "81 Quantum theory": ["quantum", "wavefunction", "hamiltonian", "spin", "photon", "planck", "orbital"],
    "82 Statistical mechanics": ["partition function", "boltzmann", "ensemble"],
    "83 Relativity": ["relativity", "lorentz", "speed of light", "spacetime"],
    "85 Astronomy and astrophysics": [
        "star",
        "planet",
        "galaxy",
        "orbit",
        "telescope",
        "luminosity",
        "solar",
        "astronomical",
    ],
    "90 Operations research": [
        "optimization",
        "linear programming",
        "schedule",
        "scheduling",
        "shortest path",
    ],
    "91 Game theory and economics": [
        "game",
        "player",
        "strategy",
        "win",
        "economics",
        "price",
        "profit",
        "market",
        "cost",
    ],
    # MSC 92 is one class, "Biology and other natural sciences" (chemistry included); one label, not two.
    "92 Biology and other natural sciences": [
        "cell",
        "protein",
        "gene",
        "dna",
        "enzyme",
        "organism",
        "species",
        "mutation",
        "biology",
        "molecule",
        "reaction",
        "acid",
        "compound",
        "mole",
        "chemical",
        "atom",
        "bond",
        "oxidation",
        "solution of",
        "ph",
    ],
    "94 Information theory": ["entropy of", "information", "channel", "coding", "bits"],
    "97 Puzzles": ["crossword", "clue", "riddle", "puzzle", "letters"],
}


def load_keywords(path: str | Path | None) -> dict[str, list[str]]:
    """The keyword table: a YAML {label: [keywords]} file, or the built-in one."""
    if path is None:
        return DEFAULT_KEYWORDS
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"diversity.keywords_path {str(p)!r} not found; fix the path or unset it")
    data = yaml.safe_load(p.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise ConfigError(f"{str(p)!r} must map each domain label to a list of keywords")
    return {str(k): [str(x) for x in v] for k, v in data.items()}


class KeywordClassifier:
    """Label = the domain with the most keyword hits, a phrase counting once per word (ties: the table's
    first label); none: unknown."""

    def __init__(self, keywords: dict[str, list[str]] | None = None, unknown: str = "unknown") -> None:
        from sklearn.feature_extraction.text import CountVectorizer

        self.labels = list((keywords or DEFAULT_KEYWORDS).keys())
        self.unknown = unknown
        vocab: dict[str, int] = {}
        pairs: list[tuple[int, int]] = []
        for li, label in enumerate(self.labels):
            for kw in (keywords or DEFAULT_KEYWORDS)[label]:
                base = " ".join(kw.lower().replace("'", " ").split())
                forms = {base} if " " in base else {base, base + "s"}
                for form in forms:
                    vi = vocab.setdefault(form, len(vocab))
                    pairs.append((vi, li))
        max_words = max(len(k.split()) for k in vocab)
        self.vectorizer = CountVectorizer(
            vocabulary=vocab,
            ngram_range=(1, max_words),
            lowercase=True,
            token_pattern=r"(?u)\b\w+\b",
            binary=True,
            dtype=np.float32,
        )
        # A phrase counts once per word, so "differential equation" beats the "equation" inside it.
        words = {vi: len(form.split()) for form, vi in vocab.items()}
        w = np.zeros((len(vocab), len(self.labels)), dtype=np.float32)
        for vi, li in pairs:
            w[vi, li] = float(words[vi])
        self.weights = w

    def scores(self, questions: Sequence[str]) -> np.ndarray:
        x = self.vectorizer.transform([q.replace("'", " ") for q in questions])
        return np.asarray(x @ self.weights)

    def __call__(self, questions: list[str]) -> list[str]:
        if not questions:
            return []
        s = self.scores(questions)
        best = s.argmax(axis=1)
        return [self.labels[b] if s[i, b] > 0 else self.unknown for i, b in enumerate(best)]


class TfidfClassifier:
    """Nearest TF-IDF centroid, trained on labelled questions (seeded by keywords when none are given)."""

    def __init__(self, unknown: str = "unknown", seed: KeywordClassifier | None = None) -> None:
        self.unknown = unknown
        self.seed = seed or KeywordClassifier(unknown=unknown)
        self.labels: list[str] = []

    def fit(self, questions: list[str], labels: list[str]) -> TfidfClassifier:
        from sklearn.feature_extraction.text import TfidfVectorizer

        keep = [i for i, lab in enumerate(labels) if lab and lab != self.unknown]
        if not keep:
            raise ConfigError(
                "the tfidf domain classifier needs labelled questions; add a domain column or "
                "use diversity.classifier: keyword"
            )
        self.vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=1, token_pattern=r"(?u)\b\w+\b")
        x = self.vectorizer.fit_transform([questions[i] for i in keep])
        y = np.array([labels[i] for i in keep])
        self.labels = sorted(set(y.tolist()))
        rows = []
        for lab in self.labels:
            c = np.asarray(x[y == lab].mean(axis=0)).ravel()
            rows.append(c / (np.linalg.norm(c) or 1.0))
        self.centroids = np.vstack(rows)
        return self

    def __call__(self, questions: list[str]) -> list[str]:
        if not questions:
            return []
        if not self.labels:
            seeded = self.seed(questions)
            self.fit(questions, seeded)
        sims = np.asarray(self.vectorizer.transform(questions) @ self.centroids.T)
        best = sims.argmax(axis=1)
        return [self.labels[b] if sims[i, b] > 0 else self.unknown for i, b in enumerate(best)]


PROMPT = (
    "Classify the following question into exactly one domain of the Mathematics Subject Classification "
    "(or the science it belongs to). Reply with the label only, copied from this list:\n{labels}\n\n"
    "Question:\n{question}\n\nLabel:"
)


class LLMClassifier:
    """Ask a model (any Solver: questions in, text out, e.g. an s1eval engine) for the label."""

    def __init__(
        self,
        solver: Callable[[list[str]], list[str]],
        labels: list[str] | None = None,
        unknown: str = "unknown",
        batch_size: int = 64,
    ) -> None:
        self.solver = solver
        self.labels = labels or list(DEFAULT_KEYWORDS)
        self.unknown = unknown
        self.batch_size = batch_size

    def parse(self, reply: str) -> str:
        """The listed label the reply names (exact, then contained, then by its MSC code)."""
        r = (reply or "").strip().strip(".").strip()
        for lab in self.labels:
            if r.lower() == lab.lower():
                return lab
        for lab in sorted(self.labels, key=len, reverse=True):
            if lab.lower() in r.lower():
                return lab
        code = r.split(" ", 1)[0]
        for lab in self.labels:
            if code and lab.split(" ", 1)[0] == code and code[:1].isdigit():
                return lab
        return self.unknown

    def __call__(self, questions: list[str]) -> list[str]:
        listing = "\n".join(self.labels)
        out: list[str] = []
        for i in range(0, len(questions), self.batch_size):
            batch = questions[i : i + self.batch_size]
            replies = self.solver([PROMPT.format(labels=listing, question=q) for q in batch])
            out.extend(self.parse(r) for r in replies)
        return out


def assign(
    df: pd.DataFrame,
    kind: str,
    classifier: DomainClassifier | None = None,
    only_missing: bool = True,
    unknown: str = "unknown",
) -> pd.Series:
    """The domain of every row: the column, a classifier's label, or the column with gaps classified."""
    has_col = "domain" in df.columns
    current = df["domain"] if has_col else pd.Series(None, index=df.index, dtype=object)
    missing = current.isna() | (current.fillna("").astype(str).str.strip() == "")
    if kind == "column":
        if not has_col:
            raise ConfigError(
                "diversity.classifier is 'column' but the pool has no domain column; map "
                "pool.columns.domain or use classifier: keyword"
            )
        return current.where(~missing, unknown).astype(str)
    if classifier is None:
        raise ConfigError(f"diversity.classifier {kind!r} needs a classifier")
    todo = missing if (has_col and only_missing) else pd.Series(True, index=df.index)
    out = current.where(~missing, unknown).astype(object)
    if isinstance(classifier, TfidfClassifier) and not classifier.labels and has_col and (~missing).any():
        classifier.fit(
            df.loc[~missing, "question"].fillna("").astype(str).tolist(),
            current[~missing].astype(str).tolist(),
        )
    if todo.any():
        out[todo] = classifier(df.loc[todo, "question"].fillna("").astype(str).tolist())
    return out.astype(str)
