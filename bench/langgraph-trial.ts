// One LangGraph benchmark trial in its own process: reads its configuration as JSON from
// argv[2] and writes its result as JSON on stdout.
import { runLangGraphTrial, type LgTrialConfig } from './langgraph.js';

const config = JSON.parse(process.argv[2]!) as LgTrialConfig;
process.stdout.write(JSON.stringify(await runLangGraphTrial(config)));
