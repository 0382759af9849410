// Hello from Skiff: an ordinary C++ program, booted as a Xen PVH guest.
#include <stdio.h>

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

std::optional<int> FindFirstLong(const std::vector<std::string>& words, size_t length) {
  for (size_t i = 0; i < words.size(); i++) {
    if (words[i].size() >= length) return static_cast<int>(i);
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  printf("Hello from Skiff\n");
  for (int i = 0; i < argc; i++) printf("argv[%d] = \"%s\"\n", i, argv[i]);

  printf("pi is about %f, e is about %.3f\n", 3.14159265358979, 2.718281828);

  std::vector<std::string> words = {"unikernel", "xen", "pvh", "guest", "skiff"};
  std::sort(words.begin(), words.end());
  std::string joined;
  for (const std::string& w : words) joined += (joined.empty() ? "" : ", ") + w;
  printf("sorted: %s\n", joined.c_str());

  std::unordered_map<std::string, size_t> lengths;
  for (const std::string& w : words) lengths[w] = w.size();
  printf("length of \"unikernel\": %zu\n", lengths["unikernel"]);

  std::optional<int> first_long = FindFirstLong(words, 6);
  printf("first word of 6 letters or more: %s\n",
         first_long ? words[*first_long].c_str() : "none");
  return 0;
}
