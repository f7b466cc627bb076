// Each figure of a report page as a standalone SVG file (`gradflow report --svg-dir`), for
// papers and slides. Plain text processing of the page; the CLI writes the files.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace gradflow {

// The page's top-level <svg> elements in page order, each as (file name, document): the name
// is a running number and a slug of the figure's title ("007-loss-on-the-probe-set.svg"), the
// document an XML declaration and the element, which already carries its namespace.
std::vector<std::pair<std::string, std::string>> standalone_figures(const std::string& page);

}  // namespace gradflow
