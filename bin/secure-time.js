#!/usr/bin/env node
import { launch } from './launch.js';
import { main } from '../dist/tools/time/cli.js';

launch(main);
