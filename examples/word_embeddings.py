# TensorFlow's "Word embeddings" tutorial (tensorflow.org/text/guide/word_embeddings), run
# on fastembed. What differs from the tutorial, and nothing else:
#   1. the imports (tensorflow -> fastembed; fastembed's `keras` namespace has Keras' layout);
#   2. custom_standardization is a Python function instead of tf.strings operations
#      (same result: lower-case, '<br />' -> ' ', punctuation removed);
#   3. the aclImdb folder is not downloaded: give its path (the folder that holds train/)
#      as the first argument or in FASTEMBED_ACLIMDB (tests/test_examples.py makes one
#      from ../shared/data/imdb);
#   4. FASTEMBED_EPOCHS may change the 15 epochs, and the notebook-only lines
#      (%load_ext / %tensorboard) are comments;
#   5. the last lines (marked) print two accuracies.
import io
import os
import re
import shutil
import string
import sys

import fastembed as tf

from fastembed.keras import Sequential
from fastembed.keras.layers import Dense, Embedding, GlobalAveragePooling1D
from fastembed.keras.layers import TextVectorization

dataset_dir = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("FASTEMBED_ACLIMDB", "aclImdb")
if not os.path.isdir(os.path.join(dataset_dir, "train")):
    sys.exit("give the aclImdb folder (with train/neg and train/pos) as the first argument")
print(os.listdir(dataset_dir))

train_dir = os.path.join(dataset_dir, 'train')
print(os.listdir(train_dir))

remove_dir = os.path.join(train_dir, 'unsup')
shutil.rmtree(remove_dir)

batch_size = 1024
seed = 123
train_ds = tf.keras.utils.text_dataset_from_directory(
    train_dir, batch_size=batch_size, validation_split=0.2,
    subset='training', seed=seed)
val_ds = tf.keras.utils.text_dataset_from_directory(
    train_dir, batch_size=batch_size, validation_split=0.2,
    subset='validation', seed=seed)

for text_batch, label_batch in train_ds.take(1):
  for i in range(5):
    print(label_batch[i].numpy(), text_batch.numpy()[i])

AUTOTUNE = tf.data.AUTOTUNE

train_ds = train_ds.cache().prefetch(buffer_size=AUTOTUNE)
val_ds = val_ds.cache().prefetch(buffer_size=AUTOTUNE)

# Embed a 1,000 word vocabulary into 5 dimensions.
embedding_layer = tf.keras.layers.Embedding(1000, 5)

result = embedding_layer(tf.constant([1, 2, 3]))
print(result.numpy())

result = embedding_layer(tf.constant([[0, 1, 2], [3, 4, 5]]))
print(result.shape)


# Create a custom standardization function to strip HTML break tags '<br />'.
def custom_standardization(input_data):
  lowercase = input_data.lower()
  stripped_html = lowercase.replace('<br />', ' ')
  return re.sub('[%s]' % re.escape(string.punctuation), '', stripped_html)


# Vocabulary size and number of words in a sequence.
vocab_size = 10000
sequence_length = 100

# Use the text vectorization layer to normalize, split, and map strings to
# integers. Note that the layer uses the custom standardization defined above.
# Set maximum_sequence length as all samples are not of the same length.
vectorize_layer = TextVectorization(
    standardize=custom_standardization,
    max_tokens=vocab_size,
    output_mode='int',
    output_sequence_length=sequence_length)

# Make a text-only dataset (no labels) and call adapt to build the vocabulary.
text_ds = train_ds.map(lambda x, y: x)
vectorize_layer.adapt(text_ds)

embedding_dim=16

model = Sequential([
  vectorize_layer,
  Embedding(vocab_size, embedding_dim, name="embedding"),
  GlobalAveragePooling1D(),
  Dense(16, activation='relu'),
  Dense(1)
])

tensorboard_callback = tf.keras.callbacks.TensorBoard(log_dir="logs")

model.compile(optimizer='adam',
              loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
              metrics=['accuracy'])

history = model.fit(
    train_ds,
    validation_data=val_ds,
    epochs=int(os.environ.get("FASTEMBED_EPOCHS", 15)),
    callbacks=[tensorboard_callback])

# %load_ext tensorboard
# %tensorboard --logdir logs

model.summary()

weights = model.get_layer('embedding').get_weights()[0]
vocab = vectorize_layer.get_vocabulary()

out_v = io.open('vectors.tsv', 'w', encoding='utf-8')
out_m = io.open('metadata.tsv', 'w', encoding='utf-8')

for index, word in enumerate(vocab):
  if index == 0:
    continue  # skip 0, it's padding.
  vec = weights[index]
  out_v.write('\t'.join([str(x) for x in vec]) + "\n")
  out_m.write(word + "\n")
out_v.close()
out_m.close()

print("final val_accuracy (Keras' metric): %.4f" % history.history["val_accuracy"][-1])

# Not in the tutorial: Keras' 'accuracy' on a from_logits model thresholds the logits at
# 0.5 (Keras does the same); the model's own decisions are logits > 0.
import numpy as np  # noqa: E402
labels = np.concatenate([y for _, y in val_ds])
logits = model.predict(val_ds.map(lambda x, y: x))[:, 0]
print("validation accuracy of the decisions (logit > 0): %.4f" % np.mean((logits > 0) == (labels == 1)))
