"""Stage preprocess@<dataset>: read the raw files once, validate them, split them, and write
data/prepared/<dataset>/ for the experiments to encode.

- series: optionally log-transformed and seasonally differenced, then scaled with a scaler
  fitted on the training part only (the write-ups fit it on all the data, which leaks the test
  range into training); writes the scaled series, the scaler and the transform.
- text: labelled texts, empty ones dropped, split once into train / validation / test;
  writes texts.csv (split, label index, text) and labels.json.
- corpus: header/footer stripped, the last documents held out; writes corpus.json.
Per-experiment encoding (stopwords, vocabulary, padding) happens in train, from train data only.

Over 350 lines: one stage script for the four dataset kinds, each reader short and sharing the
table reading and the checks of rows, labels and splits with the others.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import re
import tarfile
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from stages.datasets import CorpusDataset, Dataset, SeriesDataset, TextDataset, TextFoldersDataset
from stages.io import (
    BASELINES_FILE,
    PREPARED_DIR,
    RAW_DIR,
    PipelineError,
    exit_on_error,
    replace_directory,
    write_atomic,
    write_json,
    write_npz,
)
from stages.params import load_params
from stages.series import SCALING_FILE, MinMaxScaler, Transform, train_size

# One text (a CSV value, an archived file) may be at most this long: far above any review or
# article, far below what would exhaust memory when a corrupt archive claims a huge member.
MAX_FIELD = 16 * 2**20
MAX_MEMBER = 16 * 2**20


def read_table(path: Path, delimiter: str, header: bool, quoting: str = "minimal", rows_span_lines: str = "error") -> pd.DataFrame:
    """Read a CSV/TSV as strings, turning every parser failure into one line naming the file.

    Without a header row the columns are named by position, "1" for the first. A stray quote
    makes the parser read on to the next quote, merging rows without a word; unless
    `rows_span_lines` allows values over several lines, a row that spans lines stops the stage
    (or, with `warn`, is reported) naming the line where it starts."""
    try:
        text = path.read_bytes().decode("utf-8")
        check_rows(path, text, delimiter, quoting, rows_span_lines)
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            header=0 if header else None,
            quoting=csv.QUOTE_NONE if quoting == "none" else csv.QUOTE_MINIMAL,
        )
    except FileNotFoundError:
        raise PipelineError(f"{path}: file not found (run download first)") from None
    except UnicodeDecodeError as error:
        raise PipelineError(f"{path}: not valid UTF-8 at byte {error.start}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        raise PipelineError(f"{path}: cannot parse ({str(error).splitlines()[0]})") from None
    if not header:
        frame.columns = [str(position) for position in range(1, len(frame.columns) + 1)]
    return frame


def check_rows(path: Path, text: str, delimiter: str, quoting: str, rows_span_lines: str) -> None:
    if rows_span_lines == "allow":
        return
    csv.field_size_limit(MAX_FIELD)  # the csv module's own limit is 128 KiB; pandas reads any
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quoting=csv.QUOTE_NONE if quoting == "none" else csv.QUOTE_MINIMAL)
    line, spanning = 0, []
    try:
        for row in reader:
            if row and reader.line_num - line > 1:
                spanning.append((line + 1, reader.line_num - line))
            line = reader.line_num
    except csv.Error:
        raise PipelineError(f"{path}: line {line + 1}: a value longer than {MAX_FIELD:,} characters, the bound on one text") from None
    if spanning:
        first, lines = spanning[0]
        message = (
            f"{path}: line {first}: a quoted value runs over {lines} lines, so rows are merged "
            f"({len(spanning)} such row(s)); a stray quote does this: set quoting: none, "
            "or rows_span_lines: allow if values hold line breaks"
        )
        if rows_span_lines == "error":
            raise PipelineError(message)
        print(f"warning: {message}")


def require_columns(frame: pd.DataFrame, path: Path, columns: list[str]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise PipelineError(f"{path}: column {column!r} not found (columns: {', '.join(map(str, frame.columns))})")


def read_series(path: Path, dataset: SeriesDataset) -> tuple[np.ndarray, np.ndarray]:
    """Times (strings, or row numbers without a time column) and numeric values."""
    frame = read_table(path, dataset.delimiter, dataset.header)
    columns = [dataset.value_column] + ([dataset.time_column] if dataset.time_column else [])
    require_columns(frame, path, columns)
    if dataset.time_column:
        frame = in_time_order(frame, path, dataset.time_column, dataset.sort)
    text = frame[dataset.value_column].str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() | ~np.isfinite(values.fillna(0.0))
    times = frame[dataset.time_column].to_numpy(dtype=str) if dataset.time_column else np.arange(len(frame)).astype(str)
    if not bad.any():
        return times, values.to_numpy(dtype="float64")
    row = int(np.argmax(bad.to_numpy()))
    if dataset.fill == "error":
        raise PipelineError(
            f"{path}: column {dataset.value_column!r} row {row + 1} is not a number ({text.iloc[row]!r}); "
            "set fill: drop, previous or interpolate to accept gaps"
        )
    values = values.mask(bad)
    if dataset.fill == "drop":
        times, values = times[~bad.to_numpy()], values[~bad]
    elif dataset.fill == "previous":
        values = values.ffill().bfill()
    else:
        values = values.interpolate(limit_direction="both")
    if values.isna().all():
        raise PipelineError(f"{path}: column {dataset.value_column!r} has no numbers to fill the gaps from")
    print(f"{path}: {int(bad.sum())} empty or non-numeric value(s) in {dataset.value_column!r}, fill: {dataset.fill}")
    return times, values.to_numpy(dtype="float64")


def _time_keys(times: pd.Series) -> np.ndarray | None:
    """The times as numbers (plain numbers or dates) to order them by; None for other labels,
    whose order cannot be checked (only their repeats)."""
    numbers = pd.to_numeric(times, errors="coerce")
    if numbers.notna().all():
        return numbers.to_numpy(dtype="float64")
    dates = pd.to_datetime(times, errors="coerce", format="mixed")
    return pd.DatetimeIndex(dates).asi8 if dates.notna().all() else None


def in_time_order(frame: pd.DataFrame, path: Path, column: str, sort: bool) -> pd.DataFrame:
    """The rows with each time once, in increasing time: a repeat is refused naming both rows; rows
    out of order are refused too, or sorted (saying so) with `sort: true`. A silently repeated or
    shuffled month would train, score and label forecasts in the wrong order."""
    times = frame[column].str.strip()
    keys = _time_keys(times)
    repeated = pd.Series(times.to_numpy() if keys is None else keys).duplicated()
    if repeated.any():
        row = int(np.argmax(repeated.to_numpy()))
        first = int(np.argmax((times == times.iloc[row]).to_numpy())) if keys is None else int(np.argmax(keys == keys[row]))
        raise PipelineError(
            f"{path}: column {column!r} row {row + 1} repeats the time {times.iloc[row]!r} of row {first + 1}; each time must appear once"
        )
    if keys is None:
        return frame
    backwards = np.flatnonzero(np.diff(keys) < 0)
    if not len(backwards):
        return frame
    if not sort:
        row = int(backwards[0]) + 1
        raise PipelineError(
            f"{path}: column {column!r} row {row + 1} ({times.iloc[row]!r}) comes before row {row} ({times.iloc[row - 1]!r}); "
            "times must increase (set sort: true to sort the rows by time)"
        )
    print(f"{path}: {len(backwards)} row(s) out of time order in {column!r}; sort: true, sorted by time")
    return frame.iloc[np.argsort(keys, kind="stable")].reset_index(drop=True)


def entry_key(name: str, download: str | None) -> str:
    """How errors name a dataset's entry in params.yaml: a variant reads another dataset's download."""
    return f"datasets.{name}" if download in (None, name) else f"dataset_variants.{name}"


def raw_file(name: str, dataset: Dataset, download: str | None) -> Path:
    """The downloaded file a dataset reads: its own download, or its source's (`download`, for a
    dataset variant)."""
    return RAW_DIR / (download or name) / dataset.files[0].name


def prepare_series(name: str, dataset: SeriesDataset, folder: Path, download: str | None = None) -> str:
    times, values = read_series(raw_file(name, dataset, download), dataset)
    where = entry_key(name, download)
    size = train_size(len(values), dataset.train_fraction)
    if size < 3 or len(values) - size < 3:
        raise PipelineError(f"{where}.train_fraction: {len(values)} points split {size}/{len(values) - size}; each part needs at least 3")
    if dataset.log and np.min(values) <= 0:
        row = int(np.argmax(values <= 0))
        raise PipelineError(f"{where}.log: needs positive values, row {row + 1} is {values[row]:g}")
    if size - dataset.difference < 3:
        raise PipelineError(f"{where}.difference: {dataset.difference} leaves fewer than 3 of the {size} training points")
    if dataset.seasonal_period > size:
        raise PipelineError(
            f"{where}.seasonal_period: {dataset.seasonal_period} is longer than the {size} training points, "
            "so the seasonal-naive baseline has no earlier season to repeat"
        )
    transform = Transform(dataset.log, dataset.difference)
    modelled = transform.forward(values)
    scaler = MinMaxScaler.fit(modelled[:size])
    write_npz(folder / "series.npz", time=times, values=values, scaled=scaler.transform(modelled))
    meta = {"minimum": scaler.minimum, "maximum": scaler.maximum, "train_size": size, "log": dataset.log, "difference": dataset.difference}
    write_json(folder / SCALING_FILE, meta | {"seasonal_period": dataset.seasonal_period})
    return f"{len(values)} points, {size} train / {len(values) - size} test"


def _holdout(where: str, groups: np.ndarray, group_label: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (kept, held-out) groups."""
    from sklearn.model_selection import train_test_split

    try:
        return train_test_split(groups, test_size=fraction, stratify=group_label, random_state=seed)
    except ValueError as error:
        raise PipelineError(f"{where}: cannot split stratified ({error})") from None


def _groups(keys: pd.Series, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group index per row, the groups, and each group's first label: rows sharing a key
    (a repeated text, one sentence's phrases) always land on the same side of a split."""
    group_of_row = pd.factorize(keys)[0]
    return group_of_row, np.unique(group_of_row), pd.Series(labels).groupby(group_of_row).first().to_numpy()


def split_texts(where: str, texts: pd.Series, labels: np.ndarray, keys: pd.Series, dataset: TextDataset) -> np.ndarray:
    """'train' / 'validation' / 'test' per row."""
    count = len(texts)
    sizes = {"validation": math.floor(count * dataset.validation_fraction), "test": math.floor(count * dataset.test_fraction)}
    if count - sum(sizes.values()) < 2 or sizes["test"] < 1 or (dataset.validation_fraction > 0 and sizes["validation"] < 1):
        raise PipelineError(f"{where}: {count} texts are too few for the requested validation/test fractions")
    if dataset.split == "ordered":
        train_end = count - sizes["validation"] - sizes["test"]
        return np.array(["train"] * train_end + ["validation"] * sizes["validation"] + ["test"] * sizes["test"])
    group_of_row, groups, group_label = _groups(keys, labels)
    rest, test = _holdout(where, groups, group_label, dataset.test_fraction, dataset.split_seed)
    validation = []
    if dataset.validation_fraction:
        share = dataset.validation_fraction / (1 - dataset.test_fraction)
        rest, validation = _holdout(where, rest, group_label[rest], share, dataset.split_seed)
    part = np.full(len(groups), "train", dtype=object)
    part[test], part[validation] = "test", "validation"
    return part[group_of_row].astype(str)


def index_labels(labels: pd.Series, path: Path, column: str) -> tuple[list[str], np.ndarray]:
    """Sorted class names and each row's class index; one class only is an error."""
    classes = sorted(labels.unique())
    if len(classes) < 2:
        raise PipelineError(f"{path}: column {column!r} has {len(classes)} class(es) {classes}; need at least 2")
    return classes, labels.map({label: index for index, label in enumerate(classes)}).to_numpy()


def write_texts(
    where: str,
    folder: Path,
    parts: np.ndarray,
    classes: list[str],
    label_index: np.ndarray,
    texts: pd.Series,
    dataset: TextDataset | TextFoldersDataset,
) -> str:
    """texts.csv (split, label index, text), labels.json and the baselines on this split, the input
    of every classify experiment."""
    table = pd.DataFrame({"split": parts, "label": label_index, "text": texts})
    seen = set(table.label[table.split == "train"])
    for part in ("validation", "test"):
        unseen = sorted(set(table.label[table.split == part]) - seen)
        if unseen:
            raise PipelineError(f"{where}: class {classes[unseen[0]]!r} is in the {part} part but never in train")
    if dataset.max_texts is not None:
        shuffled = table.sample(frac=1.0, random_state=dataset.split_seed)
        table = table.loc[sorted(shuffled.groupby("split").head(dataset.max_texts).index)]
    write_atomic(folder / "texts.csv", lambda temporary: table.to_csv(temporary, index=False))
    write_json(folder / "labels.json", classes)
    write_json(folder / BASELINES_FILE, classical_baselines(table))
    counts = table["split"].value_counts()
    sizes = " / ".join(f"{counts.get(part, 0)} {part}" for part in ("train", "validation", "test"))
    return f"{len(table)} texts, {len(classes)} classes, {sizes}"


def classical_baselines(table: pd.DataFrame) -> dict[str, float]:
    """What a classifier of this split must beat: the majority class of train, and TF-IDF (words
    and bigrams) + logistic regression fitted on train, scored on test. Here, once per split, as
    they depend on nothing else: fitted in each experiment's evaluate, IMDB's took 70 s three times."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    train, test = table[table.split == "train"], table[table.split == "test"]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    classifier = LogisticRegression(max_iter=2000)
    classifier.fit(vectorizer.fit_transform(train.text), train.label)
    predicted = classifier.predict(vectorizer.transform(test.text))
    return {
        "majority_accuracy": float(np.mean(test.label == train.label.mode()[0])),
        "tfidf_logreg_accuracy": float(accuracy_score(test.label, predicted)),
        "tfidf_logreg_macro_f1": float(f1_score(test.label, predicted, average="macro")),
    }


MISSING_MARKERS = frozenset({"nan", "na", "n/a", "#n/a", "<na>", "null", "none"})


def missing_labels(labels: pd.Series, path: Path, dataset: TextDataset) -> pd.Series:
    """Rows to drop for a label that is a missing-value marker (`NaN`, `NA`, `null`, `None`): such a
    label is refused naming its row (a class called "NaN" is almost always an export's empty
    cell), dropped with `missing_labels: drop`, or a class of its own with `keep`."""
    if dataset.missing_labels == "keep":
        return pd.Series(False, index=labels.index)
    marked = labels.str.lower().isin(MISSING_MARKERS)
    if marked.any() and dataset.missing_labels == "refuse":
        row = int(np.argmax(marked.to_numpy()))
        raise PipelineError(
            f"{path}: row {row + 1} has {dataset.label_column} {labels.iloc[row]!r}, a missing-value marker, not a label "
            f"({int(marked.sum())} such row(s)); set missing_labels: drop to drop them, or keep to make it a class"
        )
    return marked


def prepare_texts(name: str, dataset: TextDataset, folder: Path, download: str | None = None) -> str:
    path, where = raw_file(name, dataset, download), entry_key(name, download)
    frame = read_table(path, dataset.delimiter, dataset.header, dataset.quoting, dataset.rows_span_lines)
    columns = [dataset.text_column, dataset.label_column] + ([dataset.group_column] if dataset.group_column else [])
    require_columns(frame, path, columns)
    texts, labels = frame[dataset.text_column], frame[dataset.label_column].str.strip()
    marked = missing_labels(labels, path, dataset)
    if dataset.classes is not None:
        unknown = ~labels.isin(dataset.classes) & ~marked
        if unknown.any():
            row = int(np.argmax(unknown.to_numpy()))
            raise PipelineError(f"{path}: row {row + 1} has {dataset.label_column} {labels.iloc[row]!r}, not one of {dataset.classes}")
    if marked.any():
        column = dataset.label_column
        print(f"preprocess@{name}: dropped {int(marked.sum())} rows whose {column!r} is a missing-value marker (missing_labels: drop)")
    empty = ((texts.str.strip() == "") | (labels == "")) & ~marked
    if empty.any():
        print(f"preprocess@{name}: dropped {int(empty.sum())} rows with empty {dataset.text_column!r} or {dataset.label_column!r}")
    empty |= marked
    if empty.any():
        frame, texts, labels = (
            frame[~empty].reset_index(drop=True),
            texts[~empty].reset_index(drop=True),
            labels[~empty].reset_index(drop=True),
        )
    if dataset.positive_class is not None:
        labels = labels.where(labels == dataset.positive_class, f"not {dataset.positive_class}")
    classes, label_index = index_labels(labels, path, dataset.label_column)
    if dataset.class_names is not None:  # after indexing, so the class order is the labels' own
        classes = [dict(zip(dataset.classes, dataset.class_names, strict=True))[label] for label in classes]
    keys = frame[dataset.group_column] if dataset.group_column else texts
    parts = split_texts(where, texts, label_index, keys, dataset)
    return write_texts(where, folder, parts, classes, label_index, texts, dataset)


def read_text_folders(path: Path, dataset: TextFoldersDataset) -> list[tuple[str, str, str]]:
    """(split, label, text) of every <root>/<split>/<label>/*.txt member, in the order of the
    unpacked folders (split, then label, then file name). A member with an absolute path or `..`
    means a corrupt or hostile archive, so it stops the stage even though nothing is unpacked."""
    folders = {f"{dataset.root}/{split}/{label}": (split, label) for split in ("train", "test") for label in dataset.labels}
    members = []
    try:
        with tarfile.open(path) as tar:
            for member in tar:
                if member.name.startswith("/") or ".." in PurePosixPath(member.name).parts:
                    raise PipelineError(f"{path}: unsafe member {member.name!r} refused")
                folder, _, file_name = member.name.rpartition("/")
                if member.isfile() and folder in folders and file_name.endswith(".txt"):
                    if member.size > MAX_MEMBER:
                        raise PipelineError(f"{path}: {member.name}: {member.size:,} bytes, over the bound of {MAX_MEMBER:,} on one text")
                    members.append((folder, file_name, tar.extractfile(member).read(MAX_MEMBER)))
    except (tarfile.TarError, EOFError, OSError) as error:
        raise PipelineError(f"{path}: cannot read the archive ({error})") from None
    found = {folder for folder, _, _ in members}
    missing = [folder for folder in folders if folder not in found]
    if missing:
        expected = f"{dataset.root}/{{train,test}}/{{{','.join(dataset.labels)}}}"
        raise PipelineError(f"{path}: {missing[0]}: review folder missing (expected {expected})")
    order = list(folders)
    rows = []
    for folder, file_name, data in sorted(members, key=lambda member: (order.index(member[0]), member[1])):
        try:
            rows.append((*folders[folder], data.decode("utf-8")))
        except UnicodeDecodeError as error:
            raise PipelineError(f"{path}: {folder}/{file_name}: not valid UTF-8 at byte {error.start}") from None
    return rows


def prepare_text_folders(name: str, dataset: TextFoldersDataset, folder: Path, download: str | None = None) -> str:
    """Read the review archive once into one table; validation is carved from train."""
    path, where = raw_file(name, dataset, download), entry_key(name, download)
    rows = read_text_folders(path, dataset)
    table = pd.DataFrame(rows, columns=["split", "label", "text"])
    classes, label_index = index_labels(table.label, path, "label folder")
    train_rows = np.flatnonzero(table.split == "train")
    group_of_row, groups, group_label = _groups(table.text.iloc[train_rows], label_index[train_rows])
    _, validation = _holdout(where, groups, group_label, dataset.validation_fraction, dataset.split_seed)
    parts = table.split.to_numpy(dtype=object)
    parts[train_rows[np.isin(group_of_row, validation)]] = "validation"
    return write_texts(where, folder, parts.astype(str), classes, label_index, table.text, dataset)


GUTENBERG_FOOTER = re.compile(r"^\W*End of (the |this )?Project Gutenberg", re.IGNORECASE)


def read_corpus_lines(path: Path, dataset: CorpusDataset) -> list[str]:
    """Non-empty lines between the optional start and end markers (Project Gutenberg's licence).
    With an end marker, an older Gutenberg footer line ("End of Project Gutenberg's ...", "End of
    the Project Gutenberg EBook ...") before it ends the text too: it is licence, not book."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise PipelineError(f"{path}: file not found (run download first)") from None
    except UnicodeDecodeError as error:
        raise PipelineError(f"{path}: not valid UTF-8 at byte {error.start}") from None
    lines = text.splitlines()
    start = dataset.start_marker
    found = [number for number, line in enumerate(lines) if start and start in line]
    if found:
        lines = lines[found[0] + 1 :]
    end = dataset.end_marker
    found = [number for number, line in enumerate(lines) if end and (end in line or GUTENBERG_FOOTER.match(line))]
    if found:
        lines = lines[: found[0]]
    return [line.rstrip() for line in lines if line.strip()]


def prepare_corpus(name: str, dataset: CorpusDataset, folder: Path, download: str | None = None) -> str:
    """The last documents held out. With `headings: separators` a document's first line (a
    chapter or poem heading) only separates documents, and the lines before the first document
    (a book's title block, contents and credits) are dropped: neither is text to learn from."""
    path, where = raw_file(name, dataset, download), entry_key(name, download)
    lines = read_corpus_lines(path, dataset)
    if dataset.document_pattern:
        pattern = re.compile(dataset.document_pattern)
        starts = [number for number, line in enumerate(lines) if pattern.match(line)]
        if not starts:
            setting = f"{where}.document_pattern: {dataset.document_pattern!r}"
            raise PipelineError(f"{setting} matched no line of {path} (each line is matched from its first character)")
    else:
        starts = list(range(len(lines)))
    held_out = math.ceil(len(starts) * dataset.validation_fraction)
    if len(starts) - held_out < 1 or held_out < 1:
        fraction = dataset.validation_fraction
        raise PipelineError(f"{where}: {len(starts)} documents are too few to hold out validation_fraction {fraction}")
    boundary = starts[len(starts) - held_out]
    train, validation = lines[:boundary], lines[boundary:]
    if dataset.headings == "separators":
        headings = set(starts)
        train = [line for number, line in enumerate(lines[starts[0] : boundary], starts[0]) if number not in headings]
        validation = [line for number, line in enumerate(validation, boundary) if number not in headings]
    write_json(folder / "corpus.json", {"train": train, "validation": validation})
    return f"{len(starts)} documents, {len(train)} train lines / {len(validation)} validation lines"


PREPARERS = {"series": prepare_series, "text": prepare_texts, "text_folders": prepare_text_folders, "corpus": prepare_corpus}


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset")
    args = parser.parse_args(argv)
    params = load_params(only=args.dataset)
    dataset, download = params.dataset(args.dataset), params.download_of(args.dataset)
    prepare = PREPARERS[dataset.kind]
    summary = replace_directory(PREPARED_DIR / args.dataset, lambda folder: prepare(args.dataset, dataset, folder, download))
    print(f"preprocess@{args.dataset}: {summary}")


if __name__ == "__main__":
    main()
