"""classify and generate on small generated data: vocabulary from training text only,
baselines, deterministic generation, and the one-line errors for bad text input."""

import dataclasses
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from stages import checkpoints, ngram
from stages.datasets import CorpusDataset, SourceFile, TextDataset
from stages.io import PipelineError, read_json
from stages.preprocess import prepare_corpus, prepare_texts
from stages.tasks import classify, generate
from stages.tasks.classify import ClassifyExperiment
from stages.text import Vocabulary
from tests.conftest import with_defaults

SOURCE = SourceFile(name="texts.csv", url="https://example.invalid/texts.csv", sha256="0" * 64)
TOPICS = {"sport": ["goal", "match", "team", "coach", "league"], "money": ["bank", "rates", "profit", "market", "shares"]}


def write_raw(workdir, name: str, content: bytes) -> None:
    folder = workdir / "data" / "raw" / "toy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)


def toy_texts(count: int = 120) -> pd.DataFrame:
    rng = random.Random(0)
    rows = []
    for index in range(count):
        label = "sport" if index % 2 else "money"
        words = [rng.choice(TOPICS[label]) for _ in range(6)] + [f"rare{index}"]
        rows.append({"category": label, "text": " ".join(words)})
    return pd.DataFrame(rows)


def text_dataset(**changes) -> TextDataset:
    return with_defaults("datasets", "text", **({"files": [SOURCE], "text_column": "text", "label_column": "category"} | changes))


def classifier(**changes) -> ClassifyExperiment:
    options = {
        "dataset": "toy",
        "encoding": {"vocab_size": 20},
        "network": {"embedding_dim": 8, "units": [4]},
        "max_length": 8,
        "epochs": 2,
        "batch_size": 16,
        "seeds": [1],
        "batching": "padded",
        "truncating": "post",
    }
    return with_defaults("experiments", "classify", **(options | changes))


@pytest.fixture
def toy(workdir):
    write_raw(workdir, "texts.csv", toy_texts().to_csv(index=False).encode())
    prepare_texts("toy", text_dataset(), workdir / "data" / "prepared" / "toy")
    return workdir


def test_split_is_stratified_and_keeps_repeated_texts_on_one_side(workdir):
    frame = toy_texts(100)
    frame = pd.concat([frame, frame.iloc[:10]], ignore_index=True)  # ten repeated articles
    write_raw(workdir, "texts.csv", frame.to_csv(index=False).encode())
    summary = prepare_texts("toy", text_dataset(), workdir / "out")
    table = pd.read_csv(workdir / "out" / "texts.csv", keep_default_na=False)
    assert summary.startswith("110 texts, 2 classes")
    assert table.groupby("text")["split"].nunique().max() == 1
    test = table[table.split == "test"]
    assert abs(test.label.mean() - 0.5) <= 0.1 and 18 <= len(test) <= 24
    assert read_json(workdir / "out" / "labels.json") == ["money", "sport"]


def test_ordered_split_takes_the_parts_in_file_order(workdir):
    write_raw(workdir, "texts.csv", toy_texts(100).to_csv(index=False).encode())
    prepare_texts("toy", text_dataset(split="ordered", validation_fraction=0.0, test_fraction=0.2), workdir / "out")
    table = pd.read_csv(workdir / "out" / "texts.csv", keep_default_na=False)
    assert list(table.split) == ["train"] * 80 + ["test"] * 20


def test_vocabulary_comes_from_the_training_split_only(toy):
    experiment = classifier(encoding={"vocab_size": None})
    folder = toy / "models" / "toy"
    folder.mkdir(parents=True)
    classify.train("toy", experiment, folder, Path("dvclive") / "toy")
    words = set(read_json(folder / "vocabulary.json")["words"])
    table, _ = classify.load_texts("toy")
    for split, rows in table.groupby("split"):
        rare = {word for text in rows.text for word in text.split() if word.startswith("rare")}
        assert (rare <= words) if split == "train" else not (rare & words), split


def test_evaluate_reports_network_and_baselines(toy, monkeypatch):
    experiment = classifier()
    folder = toy / "models" / "toy"
    folder.mkdir(parents=True)
    classify.train("toy", experiment, folder, Path("dvclive") / "toy")
    classify.evaluate("toy", experiment)
    metrics = read_json(toy / "metrics" / "toy.json")
    assert metrics["tfidf_logreg_accuracy"] == 1.0
    assert metrics["majority_accuracy"] == pytest.approx(0.5, abs=0.1)
    assert 0 <= metrics["accuracy"] <= 1 and metrics["seeds"] == 1
    confusion = pd.read_csv(toy / "plots" / "classify" / "toy.csv")
    assert len(confusion) == 4 and confusion["count"].sum() == metrics["test_size"] and set(confusion.actual) == {"money", "sport"}
    correct = confusion.loc[confusion.actual == confusion.predicted, "count"].sum()
    assert correct / metrics["test_size"] == pytest.approx(metrics["ensemble_accuracy"])  # the served model's confusion


def test_ensemble_accuracy_is_that_of_the_model_predict_serves(toy):
    experiment = classifier(seeds=[1, 2], epochs=1)
    folder = toy / "models" / "toy"
    folder.mkdir(parents=True)
    classify.train("toy", experiment, folder, Path("dvclive") / "toy")
    classify.evaluate("toy", experiment)
    metrics = read_json(toy / "metrics" / "toy.json")
    table, classes = classify.load_texts("toy")
    test = table[table.split == "test"]
    served = [classes.index(row["label"]) for row in classify.classify_texts("toy", experiment, list(test.text))]
    assert metrics["ensemble_accuracy"] == round(float(np.mean(np.array(served) == test.label.to_numpy())), 4)
    assert 0 <= metrics["ensemble_val_accuracy"] <= 1 and metrics["seeds"] == 2


def test_encoding_cuts_to_max_length_and_marks_unknown_words(toy):
    vocabulary = Vocabulary(["goal", "bank"])
    assert classify.encode(["Goal! unknown BANK", "goal " * 20], classifier(), vocabulary) == [[2, 1, 3], [2] * 8]
    assert classify.encode(["bank " * 3 + "goal " * 20], classifier(truncating="pre"), vocabulary) == [[2] * 8]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"category,body\nsport,goal\n", r"texts.csv: column 'text' not found \(columns: category, body\)"),
        (b"category,text\nsport,goal\nsport,match\nsport,team\n", r"column 'category' has 1 class\(es\) \['sport'\]; need at least 2"),
        (b"category,text\nsport,goal\xff\n", r"texts.csv: not valid UTF-8 at byte 24"),
        (b"category,text\nsport,goal\nmoney,bank\n", r"datasets.toy: 2 texts are too few"),
    ],
)
def test_bad_text_input_is_one_clear_error_and_nothing_is_written(workdir, content: bytes, message: str):
    write_raw(workdir, "texts.csv", content)
    with pytest.raises(PipelineError, match=message):
        prepare_texts("toy", text_dataset(), workdir / "out")
    assert not (workdir / "out").exists()


def test_empty_texts_are_dropped_and_counted(workdir, capsys):
    frame = toy_texts(40)
    frame.loc[[3, 7], "text"] = "  "
    write_raw(workdir, "texts.csv", frame.to_csv(index=False).encode())
    assert prepare_texts("toy", text_dataset(), workdir / "out").startswith("38 texts")
    assert "dropped 2 rows with empty 'text' or 'category'" in capsys.readouterr().out


CORPUS = SourceFile(name="rhymes.txt", url="https://example.invalid/rhymes.txt", sha256="0" * 64)
RHYMES = "\n".join(f"TITLE {number}\n\n    the cat sat on the mat {number}\n    and the dog ran far away\n\n" for number in range(10))


def corpus_dataset(**changes) -> CorpusDataset:
    return with_defaults("datasets", "corpus", **({"files": [CORPUS], "document_pattern": r"^\S"} | changes))


def test_corpus_holds_out_whole_documents_and_strips_markers(workdir):
    text = "licence header\n*** START OF THE BOOK ***\n" + RHYMES + "*** END OF THE BOOK ***\nlicence footer\n"
    write_raw(workdir, "rhymes.txt", text.encode())
    dataset = corpus_dataset(start_marker="*** START OF", end_marker="*** END OF", validation_fraction=0.2)
    assert prepare_corpus("toy", dataset, workdir / "out") == "10 documents, 24 train lines / 6 validation lines"
    corpus = read_json(workdir / "out" / "corpus.json")
    assert corpus["validation"][0] == "TITLE 8" and "licence" not in " ".join(corpus["train"] + corpus["validation"])


def test_gutenberg_headings_separate_poems_and_front_matter_is_dropped(workdir):
    poems = "".join(
        f"{numeral}.\n\n    the moon is bright {numeral.lower()}\n    over the quiet sea\n\n" for numeral in ["I", "II", "III", "IV", "V"]
    )
    front = "Produced by A. Volunteer and the Online Distributed Proofreading Team\n\nSONGS OF THE SEA\n\nBY A POET\n\nCONTENTS\n"
    text = "licence\n*** START OF THE PROJECT GUTENBERG EBOOK ***\n" + front + poems + "*** END OF THE PROJECT GUTENBERG EBOOK ***\n"
    write_raw(workdir, "rhymes.txt", text.encode())
    dataset = corpus_dataset(
        start_marker="*** START OF",
        end_marker="*** END OF",
        document_pattern=r"^[IVXLC]+\.$",
        headings="separators",
        validation_fraction=0.2,
    )
    assert prepare_corpus("toy", dataset, workdir / "out") == "5 documents, 8 train lines / 2 validation lines"
    corpus = read_json(workdir / "out" / "corpus.json")
    assert corpus["validation"] == ["    the moon is bright v", "    over the quiet sea"]
    words = " ".join(corpus["train"])
    assert not any(leak in words for leak in ("Produced", "SONGS", "CONTENTS", "II.")) and "bright iv" in words
    with pytest.raises(PipelineError, match=r"datasets\.toy\.headings: separators needs a document_pattern"):
        with_defaults("datasets", "corpus", files=[CORPUS], headings="separators")


def test_headerless_table_has_columns_by_position(workdir):
    rows = [f'{"spam" if index % 3 == 0 else "ham"}\tmessage number {index}, "quoted" here' for index in range(40)]
    write_raw(workdir, "texts.csv", ("\n".join(rows) + "\n").encode())
    dataset = text_dataset(header=False, delimiter="\t", label_column="1", text_column="2", quoting="none")
    assert prepare_texts("toy", dataset, workdir / "out").startswith("40 texts, 2 classes")


@pytest.mark.parametrize("rows_span_lines", ["error", "warn"])
def test_a_stray_quote_that_merges_rows_is_named(workdir, capsys, rows_span_lines: str):
    rows = [f"{'spam' if index % 3 == 0 else 'ham'}\tmessage number {index}" for index in range(40)]
    rows[6] = 'ham\t"Quoted start of a message that never closes'
    rows[9] = 'ham\tand a closing quote" much later'
    write_raw(workdir, "texts.csv", ("\n".join(rows) + "\n").encode())
    dataset = text_dataset(header=False, delimiter="\t", label_column="1", text_column="2", rows_span_lines=rows_span_lines)
    message = r"texts.csv: line 7: a quoted value runs over 4 lines, so rows are merged \(1 such row\(s\)\)"
    if rows_span_lines == "error":
        with pytest.raises(PipelineError, match=message):
            prepare_texts("toy", dataset, workdir / "out")
        assert not (workdir / "out").exists()
    else:
        assert prepare_texts("toy", dataset, workdir / "out").startswith("37 texts")
        assert "warning: " in capsys.readouterr().out


def test_corpus_too_small_for_the_split_is_an_error(workdir):
    write_raw(workdir, "rhymes.txt", b"ONE TITLE\n    one line\n")
    with pytest.raises(PipelineError, match=r"datasets.toy: 1 documents are too few to hold out validation_fraction 0.1"):
        prepare_corpus("toy", corpus_dataset(), workdir / "out")


def test_generation_with_a_fixed_seed_is_identical_twice(workdir):
    write_raw(workdir, "rhymes.txt", RHYMES.encode())
    prepare_corpus("toy", corpus_dataset(), workdir / "data" / "prepared" / "toy")
    experiment = with_defaults(
        "experiments",
        "generate",
        dataset="toy",
        network={"embedding_dim": 8, "units": [8], "bidirectional": True},
        sample={"seed_text": "the cat", "lines": 2, "words": 5, "temperature": 0.8, "seed": 3},
        epochs=2,
        seeds=[1],
    )
    folder = workdir / "models" / "toy"
    folder.mkdir(parents=True)
    generate.train("toy", experiment, folder, Path("dvclive") / "toy")
    model = checkpoints.load_seed_models("toy", [1])[1]
    vocabulary = Vocabulary.load(folder / "vocabulary.json")
    first = generate.generate_text(model, experiment, vocabulary, experiment.sample)
    assert first == generate.generate_text(model, experiment, vocabulary, experiment.sample)
    assert len(first) == 2 and all(len(line.split()) == 5 for line in first)
    greedy = dataclasses.replace(experiment.sample, temperature=0.0)
    assert generate.generate_text(model, experiment, vocabulary, greedy) == generate.generate_text(model, experiment, vocabulary, greedy)
    generate.evaluate("toy", experiment)
    metrics = read_json(workdir / "metrics" / "toy.json")
    assert metrics["perplexity"] > 1 and 0 <= metrics["next_word_accuracy"] <= 1
    assert metrics["ngram_perplexity"] > 1 and 0 <= metrics["ngram_next_word_accuracy"] <= 1 and 1 <= metrics["ngram_order"] <= 4
    assert (workdir / "reports" / "toy" / "sample.txt").read_text().count("\n") == 3


class RecordingModel:
    """Stands in for a next-word model: uniform over the vocabulary, remembering every input."""

    input_shape = (None, 6)

    def __init__(self, vocabulary_size: int):
        self.vocabulary_size, self.inputs = vocabulary_size, []

    def __call__(self, inputs: np.ndarray, training: bool):
        self.inputs.append(inputs[0].tolist())
        return tf.constant(np.full((1, self.vocabulary_size), 1 / self.vocabulary_size))


@pytest.mark.parametrize(
    "context_words, first_input, words_seen", [(0, [0, 0, 0, 2, 3, 4], [3, 4, 5, 6, 6, 6]), (2, [0, 0, 0, 0, 3, 4], [2] * 6)]
)
def test_generation_shows_the_model_only_the_last_context_words(context_words: int, first_input: list[int], words_seen: list[int]):
    vocabulary = Vocabulary(["the", "cat", "sat"])
    model = RecordingModel(vocabulary.size)
    sample = {"seed_text": "the cat sat", "lines": 2, "words": 3, "temperature": 1.0, "context_words": context_words}
    experiment = with_defaults(
        "experiments", "generate", dataset="toy", network={"embedding_dim": 8, "units": [8]}, sample=sample, epochs=1
    )
    sample = experiment.sample
    generate.generate_text(model, experiment, vocabulary, sample)
    assert model.inputs[0] == first_input
    assert [sum(index != 0 for index in seen) for seen in model.inputs] == words_seen


def test_phrases_of_one_sentence_stay_on_one_side(workdir):
    frame = toy_texts(200)
    frame["sentence"] = [index // 4 for index in range(200)]
    write_raw(workdir, "texts.csv", frame.to_csv(index=False).encode())
    prepare_texts("toy", text_dataset(group_column="sentence"), workdir / "out")
    table = pd.read_csv(workdir / "out" / "texts.csv", keep_default_na=False)
    table["sentence"] = frame["sentence"]
    assert table.groupby("sentence")["split"].nunique().max() == 1


def test_class_names_replace_the_labels_in_their_order(workdir):
    frame = toy_texts().replace({"category": {"sport": "1", "money": "0"}})
    write_raw(workdir, "texts.csv", frame.to_csv(index=False).encode())
    dataset = text_dataset(classes=["0", "1"], class_names=["money", "sport"])
    prepare_texts("toy", dataset, workdir / "out")
    assert read_json(workdir / "out" / "labels.json") == ["money", "sport"]
    texts = pd.read_csv(workdir / "out" / "texts.csv")
    assert (texts.label == 1).sum() == (frame.category == "1").sum()


def test_label_outside_the_allowed_classes_is_named(workdir):
    write_raw(workdir, "texts.csv", b"category,text\n1,good\n7,odd\n")
    with pytest.raises(PipelineError, match=r"row 2 has category '7', not one of \['0', '1', '2', '3', '4'\]"):
        prepare_texts("toy", text_dataset(classes=["0", "1", "2", "3", "4"]), workdir / "out")


def test_positive_class_makes_the_labels_binary(workdir):
    frame = toy_texts(60)
    frame.loc[frame.index % 3 == 0, "category"] = "neutral"
    write_raw(workdir, "texts.csv", frame.to_csv(index=False).encode())
    prepare_texts("toy", text_dataset(positive_class="sport"), workdir / "out")
    assert read_json(workdir / "out" / "labels.json") == ["not sport", "sport"]


def test_max_texts_caps_every_split_with_a_fixed_sample(workdir):
    write_raw(workdir, "texts.csv", toy_texts(200).to_csv(index=False).encode())
    prepare_texts("toy", text_dataset(max_texts=10), workdir / "first")
    prepare_texts("toy", text_dataset(max_texts=10), workdir / "second")
    table = pd.read_csv(workdir / "first" / "texts.csv", keep_default_na=False)
    assert table["split"].value_counts().to_dict() == {"train": 10, "validation": 10, "test": 10}
    assert (workdir / "first" / "texts.csv").read_bytes() == (workdir / "second" / "texts.csv").read_bytes()


def test_length_batches_cover_every_text_once_padded_per_batch_and_repeat_by_seed():
    from stages.fitting import LengthBatches

    sequences = [[index + 1] * (1 + index % 7) for index in range(50)]
    labels = np.arange(50)

    def epochs(seed: int) -> list[list[tuple[np.ndarray, np.ndarray]]]:
        dataset, batches = LengthBatches(sequences, labels, batch_size=8, seed=seed, chunk_batches=2), []
        for _ in range(2):  # as fit() reads it: every batch by index, then the epoch's end
            batches.append([dataset[index] for index in range(len(dataset))])
            dataset.on_epoch_end()
        return batches

    first, again = epochs(3), epochs(3)
    assert len(LengthBatches(sequences, labels, batch_size=8, seed=3, chunk_batches=2)) == len(first[0]) == 7
    for epoch in first:
        assert sorted(np.concatenate([targets for _, targets in epoch]).tolist()) == list(range(50))
        for inputs, targets in epoch:
            assert inputs.shape[1] == max(len(sequences[row]) for row in targets)
            assert all(inputs[i, : len(sequences[row])].tolist() == sequences[row] for i, row in enumerate(targets))
    assert [t.tolist() for _, t in first[0]] != [t.tolist() for _, t in first[1]]  # reshuffled each epoch
    assert all(np.array_equal(a[1], b[1]) for epoch, repeat in zip(first, again, strict=True) for a, b in zip(epoch, repeat, strict=True))


def test_by_length_model_ignores_padding(toy):
    experiment = classifier(batching="by_length", encoding={"vocab_size": None}, max_length=30)
    folder = toy / "models" / "toy"
    folder.mkdir(parents=True)
    classify.train("toy", experiment, folder, Path("dvclive") / "toy")
    model = checkpoints.load_seed_models("toy", [1])[1]
    short, long = classify.encode(
        ["goal match", "bank rates profit market shares " * 5], experiment, Vocabulary.load(folder / "vocabulary.json")
    )
    alone = classify.class_probabilities(model, experiment, [short])
    beside_a_long_text = classify.class_probabilities(model, experiment, [short, long])[:1]
    padded_by_hand = model.predict_on_batch(np.array([short + [0] * 28]))
    np.testing.assert_allclose(alone, beside_a_long_text, atol=1e-6)
    np.testing.assert_allclose(alone, padded_by_hand, atol=1e-6)
    assert not np.allclose(alone, classify.class_probabilities(model, experiment, [long]), atol=1e-3)
    classify.evaluate("toy", experiment)
    assert read_json(toy / "metrics" / "toy.json")["test_size"] == len(classify.load_texts("toy")[0].query("split == 'test'"))


@pytest.mark.parametrize(("clipnorm", "expected"), [(0.0, None), (1.0, 1.0)])
def test_clipnorm_reaches_the_optimizer_and_zero_means_no_clipping(clipnorm: float, expected: float | None):
    model = classify.compile_classifier("toy", classifier(clipnorm=clipnorm), vocabulary_size=20, classes=2)
    assert model.optimizer.clipnorm == expected


def test_ngram_baseline_predicts_a_text_it_has_seen():
    lines = [["the", "cat", "sat", "on", "the", "mat"]] * 20
    experiment = with_defaults(
        "experiments", "generate", dataset="toy", network={"embedding_dim": 8, "units": [8]}, sample={"seed_text": "the"}, epochs=1
    )
    known = {"the", "cat", "sat", "on", "mat"}
    order = ngram.ngram_order(lines, known, experiment)
    result = ngram.ngram_baseline(lines, lines[:3], known, experiment, order)
    assert order >= 3 and result["ngram_next_word_accuracy"] == 1.0 and result["ngram_perplexity"] < 1.5
    unigram_only = ngram.ngram_baseline(lines, [["the", "mat", "mat"]], known, experiment, order)
    assert unigram_only["ngram_perplexity"] > result["ngram_perplexity"]
