# TensorFlow's earlier "Word embeddings" tutorial (TF 2.0-2.2 docs, the imdb_reviews/subwords8k
# variant), run on fastembed. What differs from the tutorial, and nothing else:
#   1. the imports (tensorflow -> fastembed, tensorflow_datasets -> fastembed.tfds; the
#      `__future__` line is dropped);
#   2. tfds.load gets a data_dir: fastembed reads the IMDB files, it does not download them.
#      Give the folder that holds imdb/imdb_train.csv (or aclImdb/) as the first argument or
#      in FASTEMBED_DATA_DIR (tests/test_examples.py passes ../shared/data). The subwords8k
#      encoder is built from the training reviews, as TFDS built it;
#   3. FASTEMBED_EPOCHS may change the 10 epochs, and the figures are saved to PNG files
#      as well as shown;
#   4. the last lines (marked) print the accuracy on the whole test split.
import io
import os
import sys

import fastembed as tf
from fastembed import keras
from fastembed.keras import layers

import fastembed.tfds as tfds
tfds.disable_progress_bar()

data_dir = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("FASTEMBED_DATA_DIR")

embedding_layer = layers.Embedding(1000, 5)

result = embedding_layer(tf.constant([1,2,3]))
print(result.numpy())

result = embedding_layer(tf.constant([[0,1,2],[3,4,5]]))
print(result.shape)

(train_data, test_data), info = tfds.load(
    'imdb_reviews/subwords8k',
    split = (tfds.Split.TRAIN, tfds.Split.TEST),
    with_info=True, as_supervised=True, data_dir=data_dir)

encoder = info.features['text'].encoder
print(encoder.subwords[:20])

train_batches = train_data.shuffle(1000).padded_batch(10)
test_batches = test_data.shuffle(1000).padded_batch(10)

train_batch, train_labels = next(iter(train_batches))
print(train_batch.numpy())

embedding_dim=16

model = keras.Sequential([
  layers.Embedding(encoder.vocab_size, embedding_dim),
  layers.GlobalAveragePooling1D(),
  layers.Dense(16, activation='relu'),
  layers.Dense(1)
])

model.summary()

model.compile(optimizer='adam',
              loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
              metrics=['accuracy'])

history = model.fit(
    train_batches,
    epochs=int(os.environ.get("FASTEMBED_EPOCHS", 10)),
    validation_data=test_batches, validation_steps=20)

import matplotlib.pyplot as plt

history_dict = history.history

acc = history_dict['accuracy']
val_acc = history_dict['val_accuracy']
loss = history_dict['loss']
val_loss = history_dict['val_loss']

epochs = range(1, len(acc) + 1)

plt.figure(figsize=(12,9))
plt.plot(epochs, loss, 'bo', label='Training loss')
plt.plot(epochs, val_loss, 'b', label='Validation loss')
plt.title('Training and validation loss')
plt.xlabel('Epochs')
plt.ylabel('Loss')
plt.legend()
plt.savefig('loss.png')
plt.show()

plt.figure(figsize=(12,9))
plt.plot(epochs, acc, 'bo', label='Training acc')
plt.plot(epochs, val_acc, 'b', label='Validation acc')
plt.xlabel('Epochs')
plt.ylabel('Accuracy')
plt.legend(loc='lower right')
plt.ylim((0.5,1))
plt.savefig('accuracy.png')
plt.show()

e = model.layers[0]
weights = e.get_weights()[0]
print(weights.shape) # shape: (vocab_size, embedding_dim)

encoder = info.features['text'].encoder

out_v = io.open('vecs.tsv', 'w', encoding='utf-8')
out_m = io.open('meta.tsv', 'w', encoding='utf-8')

for num, word in enumerate(encoder.subwords):
  vec = weights[num+1] # skip 0, it's padding.
  out_m.write(word + "\n")
  out_v.write('\t'.join([str(x) for x in vec]) + "\n")
out_v.close()
out_m.close()

# Not in the tutorial: validation_steps=20 scores 200 reviews; this is the whole test split,
# in the same batches of 10 (the average pools over the padding too: the Embedding has no
# mask_zero, as in the tutorial, so the batch size changes the predictions). Keras'
# 'accuracy' on a from_logits model thresholds the logits at 0.5, as Keras does.
print("final val_accuracy (20 validation steps): %.4f" % history.history["val_accuracy"][-1])
print("test accuracy (25,000 reviews): %.4f" % model.evaluate(test_data.padded_batch(10), verbose=0)[1])
